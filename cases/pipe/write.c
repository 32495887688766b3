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

/* Room comes back a page (PIPE_BUF bytes on x86_64) at a time: reading
 * one page is what releases the writer. */
CASE_F(pipe, write_to_full_pipe_blocks_until_a_read_makes_room, "pipe.write.full-blocks", ends, pipe, fifo)
{
	int *p = self->p;
	static char page[PIPE_BUF];
	long capacity = hx_fill(p[1]);
	pid_t writer;
	IN_CHILD(writer) {
		ssize_t n = write(p[1], "x", 1);
		CHILD_EXPECT(n == 1, "write returned %zd", n);
	}
	EXPECT_BLOCKED_IN(writer, "write");

	cr_assert_eq(hx_read_all(p[0], page, sizeof page), (ssize_t)sizeof page);

	EXPECT_EXITS(writer, 0);
	hx_evidence("filled_with", "%ld", capacity);
	hx_evidence("released_by_reading", "%zu", sizeof page);
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

/* More than PIPE_BUF bytes carry no all-or-nothing promise: O_NONBLOCK
 * writes what fits. */
CASE_F(pipe, nonblocking_write_larger_than_pipe_buf_writes_what_fits, "pipe.write.full-blocks", ends, pipe, fifo)
{
	int *p = self->p;
	static char buf[3 * PIPE_BUF];
	hx_fill(p[1]);
	cr_assert_eq(hx_read_all(p[0], buf, PIPE_BUF), PIPE_BUF);
	SAFE(fcntl(p[1], F_SETFL, O_NONBLOCK));

	ssize_t n = write(p[1], buf, sizeof buf);

	hx_evidence("asked", "%zu", sizeof buf);
	hx_evidence("written", "%zd", n);
	cr_assert(n > 0 && n < (ssize_t)sizeof buf, "write returned %zd (%s)", n,
		  n < 0 ? hx_errno_name(errno) : "");
}
