/* The two ends of a pipe, made by pipe(2) or by opening a FIFO (fifo(7):
 * "a FIFO special file is similar to a pipe"): the pipe behaviours are
 * checked on both, as fifo.io.pipe-semantics says they hold on both. */
#ifndef PIPE_ENDS_H
#define PIPE_ENDS_H

#include "ipcproof.h"

#include <fcntl.h>
#include <sys/stat.h>

/* p[0] reads, p[1] writes, both blocking; a case may close either. */
FIXTURE(ends) {
	int p[2];
	dev_t dev;	/* the pipe's inode, to tell its ends from a reused number */
	ino_t ino;
};

FIXTURE_VARIANT(ends) {
	const char *needs;
	bool named;	/* a FIFO in the case's temp dir, not pipe(2) */
};

FIXTURE_VARIANT_ADD(ends, pipe) { .named = false };
FIXTURE_VARIANT_ADD(ends, fifo) { .named = true };

FIXTURE_SETUP(ends)
{
	struct stat st;
	if (!variant->named) {
		hx_pipe(self->p);
	} else {
		const char *path = hx_path("fifo");
		SAFE(mkfifo(path, 0600));
		/* The reader first, O_NONBLOCK so its open does not wait for a
		 * writer; then the writer's open returns at once. */
		self->p[0] = (int)SAFE(open(path, O_RDONLY | O_NONBLOCK));
		self->p[1] = (int)SAFE(open(path, O_WRONLY));
		SAFE(fcntl(self->p[0], F_SETFL, 0));
	}
	SAFE(fstat(self->p[0], &st));
	self->dev = st.st_dev;
	self->ino = st.st_ino;
}

/* Only the ends the case left open: a number it closed may since name
 * another file. */
FIXTURE_TEARDOWN(ends)
{
	(void)variant;
	for (int i = 0; i < 2; i++) {
		struct stat st;
		if (fstat(self->p[i], &st) == 0 && st.st_ino == self->ino && st.st_dev == self->dev)
			close(self->p[i]);
	}
}

#endif
