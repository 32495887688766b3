/* Reading and writing through a FIFO's descriptors: a pipe's stream. */
#include "fifo.h"

#include <stdint.h>

CASE(fifo, bytes_come_out_in_the_order_they_were_written, "fifo.order.first-in-first-out")
{
	enum { WRITES = 1000 };
	static int got[WRITES];
	const char *path = fifo_make("myfifo");
	int r, w;
	fifo_open_both(path, &r, &w);
	for (int i = 0; i < WRITES; i++)
		cr_assert_eq(write(w, &i, sizeof i), (ssize_t)sizeof i);
	close(w);

	ssize_t n = hx_read_all(r, got, sizeof got);

	int out_of_place = 0;
	for (int i = 0; i < WRITES; i++)
		out_of_place += got[i] != i;
	hx_evidence("writes", "%d", WRITES);
	hx_evidence("bytes_read", "%zd", n);
	hx_evidence("out_of_place", "%d", out_of_place);
	cr_assert_eq(n, (ssize_t)sizeof got);
	cr_assert_eq(out_of_place, 0, "%d of %d writes came out of order", out_of_place, WRITES);
	close(r);
}

/* The byte at offset k of a counting stream: the 32-bit word k / 4 holds
 * k / 4, so no two slots of the ring ever carry the same bytes. */
static unsigned char stream_byte(uint64_t k)
{
	uint32_t word = (uint32_t)(k / 4);
	unsigned char b[4];
	memcpy(b, &word, sizeof b);
	return b[k % 4];
}

/* A reader that runs while the writer writes, the ring going round many
 * times at every offset: writes of 1 byte to well past a page, reads of
 * other sizes, so that neither lines up with the slots. */
CASE(fifo, bytes_come_out_in_order_while_a_reader_drains_and_the_ring_goes_round, "fifo.order.first-in-first-out")
{
	enum { STREAM = 1 << 20 };
	static const size_t write_sizes[] = { 1, 4, 100, 1000, 4093, 5000, 12345, 3 };
	static const size_t read_sizes[] = { 3, 777, 4096, 1, 9000 };
	static unsigned char chunk[16384];
	const char *path = fifo_make("myfifo");
	int r, w;
	fifo_open_both(path, &r, &w);
	pid_t reader;
	IN_CHILD(reader) {
		close(w);
		static unsigned char buf[16384];
		uint64_t at = 0;
		for (size_t i = 0;; i++) {
			ssize_t n = read(r, buf, read_sizes[i % (sizeof read_sizes / sizeof read_sizes[0])]);
			CHILD_EXPECT(n >= 0, "read: %s", hx_errno_name(errno));
			if (n == 0)
				break;
			for (ssize_t j = 0; j < n; j++, at++)
				CHILD_EXPECT(buf[j] == stream_byte(at), "byte %llu is %#x, expected %#x",
					     (unsigned long long)at, buf[j], stream_byte(at));
		}
		hx_evidence("bytes_in_order", "%llu", (unsigned long long)at);
		CHILD_EXPECT(at == STREAM, "%llu bytes came out of %d", (unsigned long long)at, STREAM);
	}
	close(r);
	/* A reader that stopped at a wrong byte makes writes fail (EPIPE):
	 * then the reader's reason is the case's. */
	signal(SIGPIPE, SIG_IGN);

	uint64_t at = 0;
	bool cut = false;
	for (size_t i = 0; at < STREAM && !cut; i++) {
		size_t n = write_sizes[i % (sizeof write_sizes / sizeof write_sizes[0])];
		if (n > STREAM - at)
			n = STREAM - at;
		for (size_t j = 0; j < n; j++)
			chunk[j] = stream_byte(at + j);
		cut = hx_write_all(w, chunk, n) != (ssize_t)n;
		at += n;
	}
	close(w);

	EXPECT_EXITS(reader, 0);
	cr_assert(!cut, "a write failed: %s", hx_errno_name(errno));
	hx_evidence("stream_bytes", "%d", STREAM);
	hx_evidence("ring_bytes", "%ld", 16 * hx_page_size());
}

/* There is no file position: bytes are consumed, not addressed. */
CASE(fifo, lseek_on_a_fifo_descriptor_fails_with_espipe, "fifo.io.pipe-semantics")
{
	const char *path = fifo_make("myfifo");
	int r, w;
	fifo_open_both(path, &r, &w);
	cr_assert_eq(write(w, "abc", 3), 3);

	EXPECT_FAILS_WITH(lseek(r, 0, SEEK_SET), ESPIPE);

	close(r);
	close(w);
}

CASE(fifo, write_after_the_last_reader_closed_fails_with_epipe_when_sigpipe_is_ignored, "fifo.io.pipe-semantics")
{
	const char *path = fifo_make("myfifo");
	int r, w;
	fifo_open_both(path, &r, &w);
	close(r);
	signal(SIGPIPE, SIG_IGN);

	EXPECT_FAILS_WITH(write(w, "x", 1), EPIPE);

	close(w);
}
