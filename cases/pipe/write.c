/* Writing a pipe: no readers, a full pipe, O_NONBLOCK. */
#include "ends.h"

#include <fcntl.h>
#include <limits.h>
#include <sys/ioctl.h>

static int queued(int fd)
{
	int n = -1;
	ioctl(fd, FIONREAD, &n);
	return n;
}

CASE_F(pipe, write_without_readers_kills_the_writer_with_sigpipe, "pipe.write.no-readers-sigpipe", ends, pipe, fifo)
{
	int *p = self->p;
	close(p[0]);
	pid_t writer;
	IN_CHILD(writer) {
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGPIPE, SIG_DFL);
		if (write(p[1], "x", 1)) {}
		hx_evidence("survived_with_errno", "%s", hx_errno_name(errno));
	}
	close(p[1]);
	EXPECT_KILLED_BY(writer, SIGPIPE);
}

CASE_F(pipe, write_without_readers_fails_with_epipe_when_sigpipe_is_ignored, "pipe.write.no-readers-sigpipe", ends, pipe, fifo)
{
	int *p = self->p;
	close(p[0]);
	signal(SIGPIPE, SIG_IGN);
	EXPECT_FAILS_WITH(write(p[1], "x", 1), EPIPE);
}

static volatile sig_atomic_t sigpipes;
static void count_sigpipe(int sig)
{
	(void)sig;
	sigpipes++;
}

CASE_F(pipe, write_without_readers_raises_sigpipe_then_fails_with_epipe_when_caught, "pipe.write.no-readers-sigpipe", ends, pipe, fifo)
{
	int *p = self->p;
	close(p[0]);
	signal(SIGPIPE, count_sigpipe);

	EXPECT_FAILS_WITH(write(p[1], "x", 1), EPIPE);

	hx_evidence("sigpipe_delivered", "%d", (int)sigpipes);
	cr_assert_eq(sigpipes, 1);
}

CASE_F(pipe, write_with_room_returns_at_once_with_every_byte_queued, "pipe.write.room-continues", ends, pipe, fifo)
{
	int *p = self->p;
	char buf[1000] = { 0 };

	ssize_t n = write(p[1], buf, sizeof buf);

	hx_evidence("written", "%zd", n);
	cr_assert_eq(n, (ssize_t)sizeof buf);
	cr_assert_eq(queued(p[0]), (int)sizeof buf);
}

/* SIGPIPE blocked: the write still raises it, so it stays pending (and
 * would kill at the unblock), and the write fails with EPIPE. */
CASE_F(pipe, write_without_readers_fails_with_epipe_and_leaves_sigpipe_pending_when_blocked,
       "pipe.write.no-readers-sigpipe", ends, pipe, fifo)
{
	int *p = self->p;
	close(p[0]);
	pid_t writer;
	IN_CHILD(writer) {
		sigset_t pipe_only, pending;
		signal(SIGPIPE, SIG_DFL);
		sigemptyset(&pipe_only);
		sigaddset(&pipe_only, SIGPIPE);
		sigprocmask(SIG_BLOCK, &pipe_only, NULL);
		errno = 0;
		ssize_t n = write(p[1], "x", 1);
		int err = errno;
		sigpending(&pending);
		hx_evidence("errno", "%s", n == -1 ? hx_errno_name(err) : "none");
		hx_evidence("sigpipe_pending", "%d", sigismember(&pending, SIGPIPE));
		CHILD_EXPECT(n == -1 && err == EPIPE, "write returned %zd (%s)", n, hx_errno_name(err));
		CHILD_EXPECT(sigismember(&pending, SIGPIPE) == 1, "SIGPIPE is not pending");
		/* The pending signal is real: unblocking it is death by SIGPIPE. */
		sigprocmask(SIG_UNBLOCK, &pipe_only, NULL);
		hx_evidence("survived_the_unblock", "yes");
	}
	close(p[1]);
	EXPECT_KILLED_BY(writer, SIGPIPE);
	cr_assert_str_eq(hx_evidence_str("errno"), "EPIPE");
}

/* The pipe's slots: its capacity in pages (16 by default). */
static long slots_of(int fd)
{
	return (long)SAFE(fcntl(fd, F_GETPIPE_SZ)) / hx_page_size();
}

/* Puts the pipe in a known state of its slots: `full` slots each holding a
 * whole page (one page-sized write each: a write of a whole number of pages
 * never merges into a partly filled slot), then, if tail > 0, one more
 * slot holding tail bytes.  Returns the bytes queued. */
static long fill_slots(int fd, long full, long tail)
{
	long pg = hx_page_size();
	char *chunk = calloc(1, (size_t)pg);
	if (!chunk)
		hx_broken("no memory for a page");
	for (long i = 0; i < full; i++)
		if (hx_write_all(fd, chunk, (size_t)pg) != pg)
			hx_broken("filling slot %ld: %s", i, strerror(errno));
	if (tail > 0 && hx_write_all(fd, chunk, (size_t)tail) != tail)
		hx_broken("filling the last slot: %s", strerror(errno));
	free(chunk);
	return full * pg + tail;
}

/* Room comes back a slot (a page) at a time: reading one byte less than a
 * page frees no slot and the writer sleeps on; the page's last byte frees
 * the slot and releases it. */
CASE_F(pipe, write_to_full_pipe_blocks_until_a_read_makes_room, "pipe.write.full-blocks", ends, pipe, fifo)
{
	int *p = self->p;
	long pg = hx_page_size();
	char *page = malloc((size_t)pg);
	if (!page)
		hx_broken("no memory for a page");
	long capacity = fill_slots(p[1], slots_of(p[1]), 0);
	pid_t writer;
	IN_CHILD(writer) {
		ssize_t n = write(p[1], "x", 1);
		CHILD_EXPECT(n == 1, "write returned %zd", n);
	}
	EXPECT_BLOCKED_IN(writer, "write");

	cr_assert_eq(hx_read_all(p[0], page, (size_t)pg - 1), pg - 1);
	EXPECT_BLOCKED_IN(writer, "write");
	cr_assert_eq(hx_read_all(p[0], page, 1), 1);

	EXPECT_EXITS(writer, 0);
	free(page);
	hx_evidence("filled_with", "%ld", capacity);
	hx_evidence("still_blocked_after_reading", "%ld", pg - 1);
	hx_evidence("released_by_reading", "%ld", pg);
}

CASE_F(pipe, nonblocking_write_to_full_pipe_fails_with_eagain_and_writes_nothing, "pipe.write.full-blocks", ends, pipe, fifo)
{
	int *p = self->p;
	char buf[PIPE_BUF] = { 0 };
	hx_fill(p[1]);
	int before = queued(p[0]);
	SAFE(fcntl(p[1], F_SETFL, O_NONBLOCK));

	EXPECT_FAILS_WITH(write(p[1], buf, sizeof buf), EAGAIN);

	cr_assert_eq(queued(p[0]), before, "bytes queued went from %d to %d", before, queued(p[0]));
}

/* Every slot in use, the last with 496 bytes free: "full" is about slots,
 * so a 400-byte write fits in that tail; a PIPE_BUF write does not fit
 * there and has no free slot: all or nothing, so nothing (EAGAIN), though
 * bytes are free. */
CASE_F(pipe, nonblocking_write_with_every_slot_used_fits_a_small_write_in_the_last_slot_only,
       "pipe.write.full-blocks", ends, pipe, fifo)
{
	enum { FREE_IN_TAIL = 496, SMALL = 400 };
	int *p = self->p;
	static char buf[PIPE_BUF];
	long slots = slots_of(p[1]);
	long held = fill_slots(p[1], slots - 1, hx_page_size() - FREE_IN_TAIL);
	SAFE(fcntl(p[1], F_SETFL, O_NONBLOCK));

	EXPECT_FAILS_WITH(write(p[1], buf, sizeof buf), EAGAIN);
	cr_assert_eq(queued(p[0]), held, "a refused PIPE_BUF write left %d bytes queued, not %ld",
		     queued(p[0]), held);
	ssize_t n = write(p[1], buf, SMALL);

	hx_evidence("slots", "%ld", slots);
	hx_evidence("free_in_last_slot", "%d", FREE_IN_TAIL);
	hx_evidence("small_written", "%zd", n);
	cr_assert_eq(n, SMALL, "a %d-byte write returned %zd (%s)", SMALL, n,
		     n < 0 ? hx_errno_name(errno) : "");
	cr_assert_eq(queued(p[0]), held + SMALL);
}

/* More than PIPE_BUF bytes carry no all-or-nothing promise: O_NONBLOCK
 * writes whole pages into the free slots, here the one slot read empty. */
CASE_F(pipe, nonblocking_write_larger_than_pipe_buf_fills_the_free_slots, "pipe.write.full-blocks", ends, pipe, fifo)
{
	int *p = self->p;
	long pg = hx_page_size();
	size_t asked = (size_t)(3 * pg);
	char *buf = calloc(1, asked);
	if (!buf)
		hx_broken("no memory");
	fill_slots(p[1], slots_of(p[1]) - 1, 0);
	SAFE(fcntl(p[1], F_SETFL, O_NONBLOCK));

	ssize_t n = write(p[1], buf, asked);

	free(buf);
	hx_evidence("asked", "%zu", asked);
	hx_evidence("written", "%zd", n);
	cr_assert_eq(n, pg, "write of %zu bytes with one free slot of %ld returned %zd (%s)", asked, pg,
		     n, n < 0 ? hx_errno_name(errno) : "");
}

/* No free slot, the last one with room: a large write puts only its
 * remainder past whole pages (len % page) there, if it fits, and nothing
 * else; a whole number of pages has no remainder and gets EAGAIN, though
 * bytes are free. */
CASE_F(pipe, nonblocking_write_larger_than_pipe_buf_puts_only_its_remainder_in_the_last_slot,
       "pipe.write.full-blocks", ends, pipe, fifo)
{
	enum { TAIL = 3000, REMAINDER = 500 };
	int *p = self->p;
	long pg = hx_page_size();
	char *buf = calloc(1, (size_t)(2 * pg));
	if (!buf)
		hx_broken("no memory");
	long held = fill_slots(p[1], slots_of(p[1]) - 1, TAIL);
	SAFE(fcntl(p[1], F_SETFL, O_NONBLOCK));

	errno = 0;
	ssize_t pages = write(p[1], buf, (size_t)(2 * pg));
	int pages_errno = errno;
	ssize_t n = write(p[1], buf, (size_t)(pg + REMAINDER));

	free(buf);
	hx_evidence("free_in_last_slot", "%ld", pg - TAIL);
	hx_evidence("two_pages_written", "%zd", pages);
	hx_evidence("page_plus_remainder_written", "%zd", n);
	cr_assert(pages == -1 && pages_errno == EAGAIN, "a write of 2 pages returned %zd (%s)", pages,
		  hx_errno_name(pages_errno));
	cr_assert_eq(n, REMAINDER, "a write of a page + %d returned %zd", REMAINDER, n);
	cr_assert_eq(queued(p[0]), held + REMAINDER);
}
