/* Opening a FIFO: each end waits for the other, unless told not to. */
#include "fifo.h"

/* The truth names where a waiting open sleeps: wait_for_partner.  Checked
 * where the kernel says (a symbol in wchan, seen with /proc/PID/syscall);
 * a kernel hiding wchan ("0", or none) leaves only the system call. */
static void expect_waiting_for_a_partner(void)
{
	char wchan[64];
	snprintf(wchan, sizeof wchan, "%s", hx_evidence_str("wchan"));
	bool named = wchan[0] && strcmp(wchan, "0") != 0;
	hx_evidence("wchan_checked", "%s", named ? "yes" : "no");
	if (named && strcmp(hx_evidence_str("detect"), "proc-syscall") == 0)
		cr_assert_str_eq(wchan, "wait_for_partner", "the open sleeps in %s", wchan);
}

CASE(fifo, open_for_writing_blocks_until_a_reader_opens, "fifo.open.writer-waits-for-reader")
{
	const char *path = fifo_make("myfifo");
	char c = 0;
	pid_t writer;
	IN_CHILD(writer) {
		int fd = fifo_child_open(path, O_WRONLY);
		CHILD_EXPECT(write(fd, "x", 1) == 1, "write: %s", hx_errno_name(errno));
		close(fd);
	}
	EXPECT_BLOCKED_IN(writer, "open");
	expect_waiting_for_a_partner();

	int r = EXPECT_OK(open(path, O_RDONLY));

	EXPECT_EXITS(writer, 0);
	cr_assert_eq(read(r, &c, 1), 1);
	cr_assert_eq(c, 'x');
	close(r);
}

CASE(fifo, open_for_reading_blocks_until_a_writer_opens, "fifo.open.read-side")
{
	const char *path = fifo_make("myfifo");
	pid_t reader;
	IN_CHILD(reader) {
		char c = 0;
		int fd = fifo_child_open(path, O_RDONLY);
		CHILD_EXPECT(read(fd, &c, 1) == 1 && c == 'x', "read \"%c\"", c);
		close(fd);
	}
	EXPECT_BLOCKED_IN(reader, "open");
	expect_waiting_for_a_partner();

	int w = EXPECT_OK(open(path, O_WRONLY));

	cr_assert_eq(write(w, "x", 1), 1);
	EXPECT_EXITS(reader, 0);
	close(w);
}

CASE(fifo, nonblocking_open_for_writing_without_a_reader_fails_with_enxio, "fifo.open.writer-waits-for-reader")
{
	const char *path = fifo_make("myfifo");
	EXPECT_FAILS_WITH(open(path, O_WRONLY | O_NONBLOCK), ENXIO);
}

CASE(fifo, nonblocking_open_for_writing_succeeds_once_a_reader_is_open, "fifo.open.writer-waits-for-reader")
{
	const char *path = fifo_make("myfifo");
	int r = SAFE(open(path, O_RDONLY | O_NONBLOCK));

	int w = open(path, O_WRONLY | O_NONBLOCK);

	hx_evidence("errno", "%s", w == -1 ? hx_errno_name(errno) : "none");
	cr_assert(w >= 0, "open for writing failed with %s", hx_errno_name(errno));
	close(w);
	close(r);
}

CASE(fifo, nonblocking_open_for_reading_without_a_writer_succeeds_at_once, "fifo.open.read-side")
{
	const char *path = fifo_make("myfifo");

	int r = open(path, O_RDONLY | O_NONBLOCK);

	hx_evidence("errno", "%s", r == -1 ? hx_errno_name(errno) : "none");
	cr_assert(r >= 0, "open for reading failed with %s", hx_errno_name(errno));
	close(r);
}

/* No writer is end of file, not "try again". */
CASE(fifo, read_without_a_writer_returns_zero_instead_of_eagain, "fifo.open.read-side")
{
	const char *path = fifo_make("myfifo");
	char c;
	int r = SAFE(open(path, O_RDONLY | O_NONBLOCK));

	ssize_t n = read(r, &c, 1);

	hx_evidence("read", "%zd", n);
	hx_evidence("errno", "%s", n == -1 ? hx_errno_name(errno) : "none");
	cr_assert_eq(n, 0, "read returned %zd (%s)", n, n == -1 ? hx_errno_name(errno) : "");
	close(r);
}

/* POSIX leaves O_RDWR on a FIFO undefined; Linux opens it at once, and
 * the one descriptor is both ends of the buffer. */
CASE(fifo, open_read_write_returns_at_once_without_another_process, "fifo.open.writer-waits-for-reader")
{
	const char *path = fifo_make("myfifo");
	pid_t opener;
	IN_CHILD(opener) {
		char c = 0;
		int fd = fifo_child_open(path, O_RDWR);
		CHILD_EXPECT(write(fd, "x", 1) == 1, "write: %s", hx_errno_name(errno));
		CHILD_EXPECT(read(fd, &c, 1) == 1 && c == 'x', "read back \"%c\"", c);
		hx_evidence("read_back", "%c", c);
		close(fd);
	}
	EXPECT_EXITS(opener, 0);
}
