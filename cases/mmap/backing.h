/* Chores of the mmap cases: a file with known bytes to map, and what
 * /proc/self/maps says about an address. */
#ifndef MMAP_BACKING_H
#define MMAP_BACKING_H

#include "ipcproof.h"

#include <fcntl.h>
#include <sys/mman.h>

/* The byte every file made here starts with, so any change shows. */
#define BACKING_FILL '.'

/* hx_path(name), made with size bytes of BACKING_FILL (written, not a
 * hole), opened O_RDWR; the fd is the case's to close. */
static inline int backing_file(const char *name, size_t size)
{
	int fd = open(hx_path(name), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		hx_broken("open %s: %s", name, strerror(errno));
	char chunk[4096];
	memset(chunk, BACKING_FILL, sizeof chunk);
	for (size_t done = 0; done < size; done += sizeof chunk) {
		size_t n = size - done < sizeof chunk ? size - done : sizeof chunk;
		if (hx_write_all(fd, chunk, n) != (ssize_t)n)
			hx_broken("write %s: %s", name, strerror(errno));
	}
	return fd;
}

/* The /proc/self/maps line of the mapping holding addr, without its
 * newline, or "" when nothing is mapped there. */
static inline void maps_line(const void *addr, char *line, size_t size)
{
	FILE *maps = fopen("/proc/self/maps", "re");
	if (!maps)
		hx_broken("/proc/self/maps: %s", strerror(errno));
	line[0] = '\0';
	char buf[512];
	while (fgets(buf, sizeof buf, maps)) {
		unsigned long start, end;
		if (sscanf(buf, "%lx-%lx", &start, &end) == 2 &&
		    (unsigned long)addr >= start && (unsigned long)addr < end) {
			buf[strcspn(buf, "\n")] = '\0';
			snprintf(line, size, "%s", buf);
			break;
		}
	}
	fclose(maps);
}

#endif
