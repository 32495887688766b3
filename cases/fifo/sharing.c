/* Several opens of one FIFO: one kernel buffer, and who gets the bytes. */
#include "fifo.h"

#include <limits.h>

CASE(fifo, two_processes_opening_the_same_fifo_share_one_buffer_and_its_capacity, "fifo.shared.one-buffer-while-open")
{
	const char *path = fifo_make("myfifo");
	int small = (int)(2 * hx_page_size());
	int r = SAFE(open(path, O_RDONLY | O_NONBLOCK));
	pid_t writer;
	IN_CHILD(writer) {
		close(r);
		int w = open(path, O_WRONLY);
		CHILD_EXPECT(w >= 0, "open: %s", hx_errno_name(errno));
		int got = fcntl(w, F_SETPIPE_SZ, small);
		CHILD_EXPECT(got == small, "F_SETPIPE_SZ(%d) gave %d", small, got);
		long filled = hx_fill(w);
		hx_evidence("filled_by_writer", "%ld", filled);
		CHILD_EXPECT(filled == small, "the writer's open took %ld bytes", filled);
		/* Still open, and waiting for room in the buffer the reader's
		 * open is looking at. */
		CHILD_EXPECT(write(w, "x", 1) == 1, "write: %s", hx_errno_name(errno));
		close(w);
	}
	EXPECT_BLOCKED_IN(writer, "write");

	int size = EXPECT_OK(fcntl(r, F_GETPIPE_SZ));
	int queued = fifo_queued(r);
	bool writer_open = !hx_has_ended(writer);
	/* Room made through this open is room for the other one's write. */
	SAFE(fcntl(r, F_SETFL, 0));
	char *page = malloc((size_t)hx_page_size());
	if (!page)
		hx_broken("no memory");
	ssize_t n = hx_read_all(r, page, (size_t)hx_page_size());
	free(page);

	EXPECT_EXITS(writer, 0);
	hx_evidence("set_by_writer", "%d", small);
	hx_evidence("reader_f_getpipe_sz", "%d", size);
	hx_evidence("reader_queued", "%d", queued);
	cr_assert(writer_open, "the writer had closed before this open looked");
	cr_assert_eq(size, small);
	cr_assert_eq(queued, small);
	cr_assert_eq(n, hx_page_size());
	close(r);
}

CASE(fifo, unread_bytes_stay_queued_while_any_end_is_open, "fifo.shared.one-buffer-while-open")
{
	const char *path = fifo_make("myfifo");
	char buf[8] = "";
	int r, w;
	fifo_open_both(path, &r, &w);
	cr_assert_eq(write(w, "abc", 3), 3);
	close(r);

	int again = EXPECT_OK(open(path, O_RDONLY | O_NONBLOCK));

	int queued = fifo_queued(again);
	ssize_t n = read(again, buf, sizeof buf - 1);
	hx_evidence("queued_for_the_new_reader", "%d", queued);
	cr_assert_eq(n, 3, "read returned %zd", n);
	cr_assert_str_eq(buf, "abc");
	close(again);
	close(w);
}

CASE(fifo, unread_bytes_are_discarded_when_every_end_is_closed_and_the_file_stays, "fifo.shared.one-buffer-while-open")
{
	const char *path = fifo_make("myfifo");
	char c;
	struct stat st;
	int r, w;
	fifo_open_both(path, &r, &w);
	cr_assert_eq(write(w, "abc", 3), 3);
	int before = fifo_queued(r);
	close(r);
	close(w);

	int still_there = lstat(path, &st) == 0 && S_ISFIFO(st.st_mode);
	fifo_open_both(path, &r, &w);

	int after = fifo_queued(r);
	SAFE(fcntl(r, F_SETFL, O_NONBLOCK));
	ssize_t n = read(r, &c, 1);
	hx_evidence("queued_before_close", "%d", before);
	hx_evidence("queued_after_reopen", "%d", after);
	hx_evidence("fifo_still_on_disk", "%s", still_there ? "yes" : "no");
	hx_evidence("read_after_reopen", "%s", n == -1 ? hx_errno_name(errno) : "data");
	cr_assert(still_there, "the FIFO is gone from the directory");
	cr_assert_eq(before, 3);
	cr_assert_eq(after, 0, "%d bytes survived the last close", after);
	cr_assert(n == -1 && errno == EAGAIN, "read returned %zd", n);
	close(r);
	close(w);
}

/* Atomicity is among writers: a reader asking for less takes part of a
 * write and leaves the rest to whoever reads next. */
CASE(fifo, a_single_write_is_split_between_readers_that_ask_for_less, "fifo.readers.unaddressed")
{
	const char *path = fifo_make("myfifo");
	char buf[16] = "";
	int r, w;
	fifo_open_both(path, &r, &w);
	cr_assert_eq(write(w, "0123456789", 10), 10);
	pid_t other;
	IN_CHILD(other) {
		char part[8] = "";
		close(r);
		close(w);
		int fd = open(path, O_RDONLY);
		CHILD_EXPECT(fd >= 0, "open: %s", hx_errno_name(errno));
		CHILD_EXPECT(read(fd, part, 4) == 4 && strcmp(part, "0123") == 0,
			     "the other reader got \"%s\"", part);
		hx_evidence("other_reader_got", "%s", part);
		close(fd);
	}
	EXPECT_EXITS(other, 0);

	ssize_t n = read(r, buf, sizeof buf - 1);

	hx_evidence("first_reader_got", "%s", buf);
	cr_assert_eq(n, 6, "read returned %zd", n);
	cr_assert_str_eq(buf, "456789");
	close(r);
	close(w);
}

/* What two readers racing for one stream can count on, whatever the
 * scheduler does: byte i of the stream is i % MOD, each reader tallies
 * the values it got and whether every read was one unbroken run. */
enum { MOD = 251, STREAM = 1 << 20, WRITE_SIZE = 4096, READ_SIZE = 1000 };
struct tally {
	long bytes, reads, broken_reads;
	long count[MOD];
};

static void read_and_tally(const char *path, int report)
{
	static unsigned char buf[READ_SIZE];
	struct tally t = { 0 };
	int fd = open(path, O_RDONLY);
	CHILD_EXPECT(fd >= 0, "open: %s", hx_errno_name(errno));
	ssize_t n;
	while ((n = read(fd, buf, sizeof buf)) > 0) {
		t.bytes += n;
		t.reads++;
		for (ssize_t k = 0; k < n; k++) {
			t.count[buf[k]]++;
			if (k && buf[k] != (buf[k - 1] + 1) % MOD) {
				t.broken_reads++;
				break;
			}
		}
	}
	CHILD_EXPECT(n == 0, "read: %s", hx_errno_name(errno));
	close(fd);
	CHILD_EXPECT(hx_write_all(report, &t, sizeof t) == sizeof t, "report");
}

CASE(fifo, racing_readers_each_get_every_byte_exactly_once_in_unpredictable_shares, "fifo.readers.unaddressed")
{
	static unsigned char chunk[WRITE_SIZE];
	static struct tally got[2];
	const char *path = fifo_make("myfifo");
	int report[2][2];
	pid_t reader[2];
	hx_pipe(report[0]);
	hx_pipe(report[1]);
	for (int i = 0; i < 2; i++)
		IN_CHILD(reader[i]) read_and_tally(path, report[i][1]);
	close(report[0][1]);
	close(report[1][1]);
	EXPECT_BLOCKED_IN(reader[0], "open");
	EXPECT_BLOCKED_IN(reader[1], "open");

	int w = SAFE(open(path, O_WRONLY));
	for (long off = 0; off < STREAM; off += WRITE_SIZE) {
		for (int k = 0; k < WRITE_SIZE; k++)
			chunk[k] = (unsigned char)((off + k) % MOD);
		cr_assert_eq(hx_write_all(w, chunk, sizeof chunk), (ssize_t)sizeof chunk);
	}
	close(w);

	for (int i = 0; i < 2; i++) {
		EXPECT_EXITS(reader[i], 0);
		cr_assert_eq(hx_read_all(report[i][0], &got[i], sizeof got[i]),
			     (ssize_t)sizeof got[i]);
		close(report[i][0]);
	}
	hx_evidence("stream_bytes", "%d", STREAM);
	hx_evidence("reader_a_bytes", "%ld", got[0].bytes);
	hx_evidence("reader_b_bytes", "%ld", got[1].bytes);
	hx_evidence("reader_a_reads", "%ld", got[0].reads);
	hx_evidence("reader_b_reads", "%ld", got[1].reads);
	cr_assert_eq(got[0].bytes + got[1].bytes, STREAM);
	for (int v = 0; v < MOD; v++) {
		long sent = STREAM / MOD + (v < STREAM % MOD);
		cr_assert_eq(got[0].count[v] + got[1].count[v], sent,
			     "value %d: sent %ld times, received %ld + %ld", v, sent,
			     got[0].count[v], got[1].count[v]);
	}
	cr_assert_eq(got[0].broken_reads + got[1].broken_reads, 0,
		     "a read returned bytes that were not consecutive in the stream");
}

/* Many writers, one reader: the kernel keeps each write of at most
 * PIPE_BUF bytes whole, so the reader can tell the records apart. */
CASE(fifo, several_writers_with_their_own_opens_deliver_every_record_whole, "fifo.users.only-two")
{
	enum { WRITERS = 3, RECORDS = 128 };
	const char *path = fifo_make("myfifo");
	pid_t writers[WRITERS];
	int r, hold;
	fifo_open_both(path, &r, &hold);
	for (int i = 0; i < WRITERS; i++) {
		IN_CHILD(writers[i]) {
			/* Its own open first: the inherited one keeps the
			 * reader from seeing end of file meanwhile. */
			int fd = open(path, O_WRONLY);
			CHILD_EXPECT(fd >= 0, "open: %s", hx_errno_name(errno));
			close(hold);
			close(r);
			hx_write_records(fd, i, RECORDS);
			close(fd);
		}
	}
	close(hold);

	struct hx_records got = hx_read_records(r, WRITERS);

	close(r);
	for (int i = 0; i < WRITERS; i++)
		EXPECT_EXITS(writers[i], 0);
	hx_evidence("writers", "%d", WRITERS);
	hx_evidence("records", "%d", WRITERS * RECORDS);
	hx_evidence("mixed_records", "%d", got.mixed);
	hx_evidence("writer_switches", "%d", got.switches);
	cr_assert_eq(got.mixed, 0, "%d records of PIPE_BUF bytes were mixed", got.mixed);
	for (int i = 0; i < WRITERS; i++)
		cr_assert_eq(got.per_writer[i], RECORDS, "writer %d: %d whole records", i,
			     got.per_writer[i]);
}
