/* Reading and writing through a FIFO's descriptors: a pipe's stream. */
#include "fifo.h"

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
