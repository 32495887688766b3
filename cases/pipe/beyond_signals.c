/* A caught signal and a pipe call that sleeps (signal(7): interruption of
 * system calls; sigaction(2) SA_RESTART). */
#include "ipcproof.h"

#include <fcntl.h>

static void on_signal(int sig)
{
	(void)sig;
	hx_checkpoint_wake(0);
}

static void catch_usr1(int flags)
{
	struct sigaction sa = { .sa_handler = on_signal, .sa_flags = flags };
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGUSR1, &sa, NULL))
		hx_child_fail(__FILE__, __LINE__, "sigaction: %s", hx_errno_name(errno));
}

/* The child is asleep in the call when the signal comes, not before. */
static void interrupt_in(pid_t child, const char *call)
{
	EXPECT_BLOCKED_IN(child, call);
	SAFE(kill(child, SIGUSR1));
}

CASE(pipe, blocked_read_interrupted_by_a_handler_without_sa_restart_fails_with_eintr,
     "pipe.signals.eintr-without-sa-restart")
{
	int p[2];
	hx_pipe(p);
	pid_t reader;
	IN_CHILD(reader) {
		char b;
		catch_usr1(0);
		ssize_t n = read(p[0], &b, 1);
		hx_evidence("read_errno", "%s", n < 0 ? hx_errno_name(errno) : "none");
		CHILD_EXPECT(n == -1 && errno == EINTR, "read returned %zd (%s)", n, hx_errno_name(errno));
	}

	interrupt_in(reader, "read");

	EXPECT_EXITS(reader, 0);
	close(p[0]);
	close(p[1]);
}

CASE(pipe, blocked_read_with_sa_restart_sleeps_again_after_the_handler_and_gets_the_data,
     "pipe.signals.sa-restart-resumes-the-read")
{
	int p[2];
	hx_pipe(p);
	pid_t reader;
	IN_CHILD(reader) {
		char b = 0;
		catch_usr1(SA_RESTART);
		ssize_t n = read(p[0], &b, 1);
		CHILD_EXPECT(n == 1 && b == 'x', "read returned %zd (%s)", n, n < 0 ? hx_errno_name(errno) : "");
	}

	interrupt_in(reader, "read");
	hx_checkpoint_wait(0);	/* the handler ran (an atomic futex wake) */

	EXPECT_BLOCKED_IN(reader, "read");
	SAFE(write(p[1], "x", 1));

	EXPECT_EXITS(reader, 0);
	close(p[0]);
	close(p[1]);
}

CASE(pipe, blocking_write_interrupted_after_filling_the_pipe_returns_the_bytes_written,
     "pipe.signals.interrupted-write-returns-bytes-written")
{
	int p[2];
	hx_pipe(p);
	long capacity = SAFE(fcntl(p[1], F_GETPIPE_SZ));
	pid_t writer;
	IN_CHILD(writer) {
		/* more than the pipe holds on every page size */
		char *big = calloc(3 * capacity, 1);
		CHILD_EXPECT(big, "no memory for %ld bytes", 3 * capacity);
		catch_usr1(0);
		ssize_t n = write(p[1], big, 3 * capacity);
		hx_evidence("write_returned", "%zd", n);
		CHILD_EXPECT(n == capacity, "the interrupted write returned %zd (%s), capacity %ld", n,
			     n < 0 ? hx_errno_name(errno) : "", capacity);
	}

	interrupt_in(writer, "write");

	EXPECT_EXITS(writer, 0);
	hx_evidence("capacity", "%ld", capacity);
	close(p[0]);
	close(p[1]);
}
