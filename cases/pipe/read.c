/* Reading a pipe: data, end of file, blocking, O_NONBLOCK. */
#include "ends.h"

#include <fcntl.h>

CASE_F(pipe, read_returns_the_bytes_present_without_waiting_for_more, "pipe.read.data-present", ends, pipe, fifo)
{
	int *p = self->p;
	char buf[100];
	hx_write_all(p[1], "hello", 5);

	ssize_t n = read(p[0], buf, sizeof buf);

	hx_evidence("asked", "%zu", sizeof buf);
	hx_evidence("got", "%zd", n);
	cr_assert_eq(n, 5, "read returned %zd with a writer still open", n);
}

CASE_F(pipe, read_returns_zero_once_every_write_end_in_every_process_is_closed, "pipe.read.eof-after-writers-close", ends, pipe, fifo)
{
	int *p = self->p;
	char c;
	pid_t holder;
	IN_CHILD(holder) close(p[0]); /* exits holding p[1] until then */
	close(p[1]);
	EXPECT_EXITS(holder, 0);

	ssize_t n = read(p[0], &c, 1);

	hx_evidence("read", "%zd", n);
	cr_assert_eq(n, 0);
}

CASE_F(pipe, read_drains_queued_bytes_before_returning_zero, "pipe.read.eof-after-writers-close", ends, pipe, fifo)
{
	int *p = self->p;
	char buf[16];
	hx_write_all(p[1], "abc", 3);
	close(p[1]);

	ssize_t first = read(p[0], buf, sizeof buf);
	ssize_t second = read(p[0], buf, sizeof buf);

	hx_evidence("reads", "%zd,%zd", first, second);
	cr_assert_eq(first, 3);
	cr_assert_eq(second, 0);
}

CASE_F(pipe, read_of_empty_pipe_blocks_while_a_writer_is_open_until_data_arrives, "pipe.read.blocks-while-writer-open", ends, pipe, fifo)
{
	int *p = self->p;
	pid_t reader;
	IN_CHILD(reader) {
		char c = 0;
		ssize_t n = read(p[0], &c, 1);
		CHILD_EXPECT(n == 1 && c == 'x', "read returned %zd", n);
	}
	EXPECT_BLOCKED_IN(reader, "read");

	hx_write_all(p[1], "x", 1);

	EXPECT_EXITS(reader, 0);
}

/* The write end still open in another process is enough to block; its
 * closing is what turns the wait into end of file. */
CASE_F(pipe, read_blocks_until_the_last_writer_closes_then_returns_zero, "pipe.read.blocks-while-writer-open", ends, pipe, fifo)
{
	int *p = self->p;
	pid_t holder, reader;
	IN_CHILD(holder) hx_checkpoint_wait(0); /* keeps p[1] open until told */
	IN_CHILD(reader) {
		char c;
		close(p[1]);
		ssize_t n = read(p[0], &c, 1);
		CHILD_EXPECT(n == 0, "read returned %zd", n);
	}
	close(p[1]);
	EXPECT_BLOCKED_IN(reader, "read");

	hx_checkpoint_wake(0); /* the holder exits, closing the last write end */

	EXPECT_EXITS(holder, 0);
	EXPECT_EXITS(reader, 0);
}

CASE_F(pipe, nonblocking_read_of_empty_pipe_with_a_writer_fails_with_eagain, "pipe.read.blocks-while-writer-open", ends, pipe, fifo)
{
	int *p = self->p;
	char c;
	SAFE(fcntl(p[0], F_SETFL, O_NONBLOCK));
	SAFE(fcntl(p[1], F_SETFL, O_NONBLOCK));
	EXPECT_FAILS_WITH(read(p[0], &c, 1), EAGAIN);
}

CASE_F(pipe, nonblocking_read_of_empty_pipe_without_writers_returns_zero, "pipe.read.eof-after-writers-close", ends, pipe, fifo)
{
	int *p = self->p;
	char c;
	SAFE(fcntl(p[0], F_SETFL, O_NONBLOCK));
	SAFE(fcntl(p[1], F_SETFL, O_NONBLOCK));
	close(p[1]);

	ssize_t n = read(p[0], &c, 1);

	hx_evidence("read", "%zd", n);
	cr_assert_eq(n, 0, "read returned %zd (%s)", n, n < 0 ? hx_errno_name(errno) : "");
}
