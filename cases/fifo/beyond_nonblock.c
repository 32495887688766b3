/* Non-blocking I/O and SIGPIPE on a FIFO: fifo(7) defers to pipe(7), and
 * LTP's FIFO tests check these on the named object itself. */
#include "ipcproof.h"

#include <fcntl.h>
#include <sys/stat.h>

static const char *made_fifo(void)
{
	const char *path = hx_path("fifo");
	SAFE(mkfifo(path, 0600));
	return path;
}

CASE(fifo, nonblocking_read_of_an_empty_fifo_with_a_writer_open_fails_with_eagain,
     "fifo.nonblock.read-eagain-while-a-writer-is-open")
{
	const char *path = made_fifo();
	int rd = (int)SAFE(open(path, O_RDONLY | O_NONBLOCK));
	int wr = (int)SAFE(open(path, O_WRONLY));
	char b;

	EXPECT_FAILS_WITH(read(rd, &b, 1), EAGAIN);

	close(wr);
	ssize_t eof = read(rd, &b, 1);	/* the contrast: no writer is end of file */
	hx_evidence("after_writer_closed", "%zd", eof);
	cr_assert_eq(eof, 0, "read with no writer returned %zd", eof);
	close(rd);
}

CASE(fifo, nonblocking_writer_fills_the_fifo_then_every_write_fails_with_eagain, "fifo.nonblock.write-eagain-when-full")
{
	const char *path = made_fifo();
	int rd = (int)SAFE(open(path, O_RDONLY | O_NONBLOCK));
	int wr = (int)SAFE(open(path, O_WRONLY | O_NONBLOCK));
	static char page[4096];
	long size = SAFE(fcntl(wr, F_GETPIPE_SZ)), total = 0;
	ssize_t n;

	while ((n = write(wr, page, sizeof page)) > 0)
		total += n;
	int err = errno;

	hx_evidence("filled", "%ld", total);
	hx_evidence("pipe_sz", "%ld", size);
	cr_assert_eq(err, EAGAIN, "the write that found it full: %s", hx_errno_name(err));
	cr_assert_eq(total, size, "%ld bytes fitted in a FIFO of %ld", total, size);
	EXPECT_FAILS_WITH(write(wr, "x", 1), EAGAIN);
	close(rd);
	close(wr);
}

CASE(fifo, write_to_a_fifo_whose_last_reader_closed_kills_the_writer_with_sigpipe, "fifo.sigpipe.default-kills-the-writer")
{
	const char *path = made_fifo();
	int rd = (int)SAFE(open(path, O_RDONLY | O_NONBLOCK));
	int wr = (int)SAFE(open(path, O_WRONLY));
	close(rd);
	pid_t writer;
	IN_CHILD(writer) {
		signal(SIGPIPE, SIG_DFL);
		ssize_t n = write(wr, "x", 1);
		CHILD_EXPECT(0, "the write returned %zd (%s) and the writer lived", n, hx_errno_name(errno));
	}
	close(wr);

	EXPECT_KILLED_BY(writer, SIGPIPE);
}
