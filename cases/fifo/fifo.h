/* Chores the fifo cases share. */
#ifndef FIFO_CASES_H
#define FIFO_CASES_H

#include "ipcproof.h"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

/* A fresh FIFO in the case's temp directory. */
static inline const char *fifo_make(const char *name)
{
	const char *path = hx_path(name);
	if (mkfifo(path, 0600) == -1)
		hx_broken("mkfifo %s: %s", path, strerror(errno));
	return path;
}

/* Both ends in this process without blocking: the reader first, with
 * O_NONBLOCK (so its open does not wait), which lets the writer's open
 * return at once.  The reader is left blocking again. */
static inline void fifo_open_both(const char *path, int *r, int *w)
{
	*r = open(path, O_RDONLY | O_NONBLOCK);
	*w = *r == -1 ? -1 : open(path, O_WRONLY);
	if (*r == -1 || *w == -1)
		hx_broken("opening %s: %s", path, strerror(errno));
	fcntl(*r, F_SETFL, 0);
}

/* In a child: opens path (waiting as the flags say), or fails the child. */
static inline int fifo_child_open(const char *path, int flags)
{
	int fd = open(path, flags);
	CHILD_EXPECT(fd >= 0, "open: %s", hx_errno_name(errno));
	return fd;
}

/* The bytes queued in the kernel buffer behind fd. */
static inline int fifo_queued(int fd)
{
	int n = -1;
	if (ioctl(fd, FIONREAD, &n) == -1)
		hx_broken("FIONREAD: %s", strerror(errno));
	return n;
}

#endif
