/* How much a pipe holds, what `ulimit -p` means, and PIPE_BUF. */
#include "ends.h"

#include <fcntl.h>
#include <limits.h>
#include <sys/wait.h>

CASE_F(pipe, default_capacity_is_16_pages_as_f_getpipe_sz_reports, "pipe.capacity.default-65536", ends, pipe, fifo)
{
	int *p = self->p;

	long measured = hx_fill(p[1]);

	int reported = EXPECT_OK(fcntl(p[1], F_GETPIPE_SZ));
	hx_evidence("pipe_capacity", "%ld", measured);
	hx_evidence("f_getpipe_sz", "%d", reported);
	hx_evidence("page_size", "%ld", hx_page_size());
	cr_assert_eq(measured, reported);
	cr_assert_eq(measured, 16 * hx_page_size());
}

/* The capacity is 16 page-sized slots, not a byte count: a write goes into
 * the last slot only if it fits there whole. */
CASE_F(pipe, capacity_in_bytes_depends_on_the_size_of_the_writes, "pipe.capacity.default-65536", ends, pipe, fifo)
{
	int *p = self->p;
	char chunk[1000] = { 0 };
	SAFE(fcntl(p[1], F_SETFL, O_NONBLOCK));

	long total = 0;
	ssize_t w;
	while ((w = write(p[1], chunk, sizeof chunk)) > 0)
		total += w;

	long per_page = hx_page_size() / (long)sizeof chunk * (long)sizeof chunk;
	hx_evidence("filled_with_1000_byte_writes", "%ld", total);
	hx_evidence("page_size", "%ld", hx_page_size());
	cr_assert_eq(total, 16 * per_page);
}

/* bash's `ulimit -p` is a constant in 512-byte blocks: PIPE_BUF, the size
 * of an atomic write, not the capacity the notes put beside it. */
CASE(pipe, ulimit_pipe_size_is_pipe_buf_not_the_capacity, "pipe.capacity.ulimit-is-pipe-buf",
     NEEDS("cmd:bash"))
{
	int p[2];
	char out[64] = "";
	char *argv[] = { "bash", "-c", "ulimit -p", NULL };
	hx_pipe(p);

	int status = hx_capture(argv, out, sizeof out);

	long blocks = strtol(out, NULL, 10);
	long pc_pipe_buf = fpathconf(p[0], _PC_PIPE_BUF);
	long capacity = hx_fill(p[1]);
	hx_evidence("ulimit_p", "%ld", blocks);
	hx_evidence("pc_pipe_buf", "%ld", pc_pipe_buf);
	hx_evidence("pipe_capacity", "%ld", capacity);
	cr_assert(status == 0, "bash -c 'ulimit -p' ended with status %#x", status);
	cr_assert_eq(blocks * 512, pc_pipe_buf);
	cr_assert_eq(pc_pipe_buf, PIPE_BUF);
	cr_assert_neq(blocks * 512, capacity);
	close(p[0]);
	close(p[1]);
}

CASE_F(pipe, f_setpipe_sz_rounds_up_to_a_power_of_two_pages, "pipe.capacity.adjustable", ends, pipe, fifo)
{
	int *p = self->p;
	int asked = (int)(2 * hx_page_size() + 1);

	int got = EXPECT_OK(fcntl(p[1], F_SETPIPE_SZ, asked));

	long measured = hx_fill(p[1]);
	hx_evidence("asked", "%d", asked);
	hx_evidence("got", "%d", got);
	hx_evidence("pipe_capacity", "%ld", measured);
	cr_assert_eq(got, 4 * hx_page_size());
	cr_assert_eq(measured, got);
}

CASE_F(pipe, f_setpipe_sz_below_the_queued_bytes_fails_with_ebusy, "pipe.capacity.adjustable", ends, pipe, fifo)
{
	int *p = self->p;
	hx_fill(p[1]);
	EXPECT_FAILS_WITH(fcntl(p[1], F_SETPIPE_SZ, (int)hx_page_size()), EBUSY);
}

static long pipe_max_size(void)
{
	FILE *f = fopen("/proc/sys/fs/pipe-max-size", "re");
	long v = -1;
	if (f) {
		if (fscanf(f, "%ld", &v) != 1)
			v = -1;
		fclose(f);
	}
	return v;
}

CASE(pipe, f_setpipe_sz_above_pipe_max_size_fails_with_eperm_when_unprivileged, "pipe.capacity.adjustable",
     NEEDS("/proc/sys/fs/pipe-max-size"))
{
	long max = pipe_max_size();
	if (max <= 0)
		hx_broken("/proc/sys/fs/pipe-max-size holds no size");
	pid_t child;
	IN_CHILD(child) {
		int p[2];
		if (getuid() == 0)
			CHILD_EXPECT(setgid(65534) == 0 && setuid(65534) == 0,
				     "dropping root: %s", hx_errno_name(errno));
		CHILD_EXPECT(pipe(p) == 0, "pipe");
		int r = fcntl(p[1], F_SETPIPE_SZ, (int)(max * 2));
		int e = errno;
		hx_evidence("errno", "%s", r == -1 ? hx_errno_name(e) : "none");
		CHILD_EXPECT(r == -1 && e == EPERM, "F_SETPIPE_SZ(%ld) returned %d", max * 2, r);
	}
	hx_evidence("pipe_max_size", "%ld", max);
	EXPECT_EXITS(child, 0);
}

/* Writers each send records of PIPE_BUF bytes filled with their own mark;
 * if every write is atomic, the stream is whole records back to back. */
CASE_F(pipe, writes_of_at_most_pipe_buf_bytes_are_never_interleaved, "pipe.capacity.ulimit-is-pipe-buf", ends, pipe, fifo)
{
	enum { WRITERS = 4, RECORDS = 256 };
	int *p = self->p;
	pid_t writers[WRITERS];
	for (int w = 0; w < WRITERS; w++)
		IN_CHILD(writers[w]) hx_write_records(p[1], w, RECORDS);
	close(p[1]);

	struct hx_records got = hx_read_records(p[0], WRITERS);

	close(p[0]);
	for (int w = 0; w < WRITERS; w++)
		EXPECT_EXITS(writers[w], 0);
	hx_evidence("writers", "%d", WRITERS);
	hx_evidence("records", "%d", WRITERS * RECORDS);
	hx_evidence("pipe_buf", "%d", PIPE_BUF);
	hx_evidence("mixed_records", "%d", got.mixed);
	cr_assert_eq(got.mixed, 0, "%d records of PIPE_BUF bytes were interleaved", got.mixed);
	for (int w = 0; w < WRITERS; w++)
		cr_assert_eq(got.per_writer[w], RECORDS, "writer %d: %d whole records", w, got.per_writer[w]);
}
