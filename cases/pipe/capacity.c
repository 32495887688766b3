/* How much a pipe holds, what `ulimit -p` means, and PIPE_BUF. */
#include "ends.h"

#include <fcntl.h>
#include <limits.h>
#include <sys/ioctl.h>
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

/* EBUSY is about slots, not bytes: 11 bytes held in 2 slots (a page
 * written, all but its last byte read, 10 more that no longer fit after
 * that byte) refuse a one-slot size. */
CASE_F(pipe, f_setpipe_sz_below_the_occupied_slots_fails_with_ebusy_whatever_the_bytes,
       "pipe.capacity.adjustable", ends, pipe, fifo)
{
	int *p = self->p;
	long pg = hx_page_size();
	char *buf = calloc(1, (size_t)pg);
	if (!buf)
		hx_broken("no memory");
	SAFE(hx_write_all(p[1], buf, (size_t)pg));
	SAFE(hx_read_all(p[0], buf, (size_t)pg - 1));
	SAFE(hx_write_all(p[1], buf, 10));
	free(buf);
	int held = -1;
	SAFE(ioctl(p[0], FIONREAD, &held));
	hx_evidence("bytes_held", "%d", held);

	EXPECT_FAILS_WITH(fcntl(p[1], F_SETPIPE_SZ, (int)pg), EBUSY);

	cr_assert_eq(held, 11, "the set-up left %d bytes, not 11", held);
}

/* ... while 300 bytes merged into one slot fit a one-slot pipe. */
CASE_F(pipe, f_setpipe_sz_to_one_slot_succeeds_while_the_bytes_fill_one_slot,
       "pipe.capacity.adjustable", ends, pipe, fifo)
{
	int *p = self->p;
	char buf[300] = { 0 };
	for (int i = 0; i < 3; i++)
		SAFE(hx_write_all(p[1], buf, 100));

	int got = EXPECT_OK(fcntl(p[1], F_SETPIPE_SZ, (int)hx_page_size()));

	hx_evidence("got", "%d", got);
	cr_assert_eq(got, hx_page_size());
	cr_assert_eq(hx_read_all(p[0], buf, sizeof buf), (ssize_t)sizeof buf, "bytes were lost");
}

/* A packet pipe (O_DIRECT) gives every write a slot of its own: 3 one-byte
 * packets refuse 1 and 2 slots, 4 slots take them. */
CASE(pipe, f_setpipe_sz_below_the_packets_of_a_packet_pipe_fails_with_ebusy, "pipe.capacity.adjustable")
{
	int p[2];
	long pg = hx_page_size();
	/* Room for the packets whatever the default capacity, and a write
	 * that fails rather than waits should there be none. */
	SAFE(pipe2(p, O_DIRECT | O_NONBLOCK));
	SAFE(fcntl(p[1], F_SETPIPE_SZ, (int)(8 * pg)));
	for (int i = 0; i < 3; i++)
		SAFE(write(p[1], "x", 1));

	EXPECT_FAILS_WITH(fcntl(p[1], F_SETPIPE_SZ, (int)pg), EBUSY);
	EXPECT_FAILS_WITH(fcntl(p[1], F_SETPIPE_SZ, (int)(2 * pg)), EBUSY);
	int got = EXPECT_OK(fcntl(p[1], F_SETPIPE_SZ, (int)(4 * pg)));

	hx_evidence("four_slots", "%d", got);
	cr_assert_eq(got, 4 * pg);
	close(p[0]);
	close(p[1]);
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

/* Whether CAP_SYS_RESOURCE is in this process's effective set (root
 * need not have it: a container may drop it). */
static bool has_cap_sys_resource(void)
{
	enum { CAP_SYS_RESOURCE_BIT = 24 };
	FILE *f = fopen("/proc/self/status", "re");
	char line[256];
	unsigned long long eff = 0;
	bool found = false;
	if (!f)
		hx_broken("/proc/self/status: %s", strerror(errno));
	while (fgets(line, sizeof line, f))
		if (sscanf(line, "CapEff: %llx", &eff) == 1)
			found = true;
	fclose(f);
	if (!found)
		hx_broken("no CapEff in /proc/self/status");
	return eff >> CAP_SYS_RESOURCE_BIT & 1;
}

/* One byte above the limit rounds up past it: the smallest size refused. */
static int above_pipe_max_size(void)
{
	long max = pipe_max_size();
	if (max <= 0 || max >= INT_MAX)
		hx_broken("/proc/sys/fs/pipe-max-size holds no usable size (%ld)", max);
	hx_evidence("pipe_max_size", "%ld", max);
	return (int)max + 1;
}

CASE(pipe, f_setpipe_sz_above_pipe_max_size_fails_with_eperm_when_unprivileged, "pipe.capacity.adjustable",
     NEEDS("/proc/sys/fs/pipe-max-size"))
{
	int asked = above_pipe_max_size();
	pid_t child;
	IN_CHILD(child) {
		int p[2];
		if (getuid() == 0)
			CHILD_EXPECT(setgid(65534) == 0 && setuid(65534) == 0,
				     "dropping root: %s", hx_errno_name(errno));
		CHILD_EXPECT(pipe(p) == 0, "pipe");
		int r = fcntl(p[1], F_SETPIPE_SZ, asked);
		int e = errno;
		hx_evidence("errno", "%s", r == -1 ? hx_errno_name(e) : "none");
		CHILD_EXPECT(r == -1 && e == EPERM, "F_SETPIPE_SZ(%d) returned %d", asked, r);
	}
	EXPECT_EXITS(child, 0);
}

/* The rule is the capability, not the uid: this process (root or not)
 * is refused without CAP_SYS_RESOURCE and granted with it. */
CASE(pipe, f_setpipe_sz_above_pipe_max_size_follows_cap_sys_resource_not_the_uid, "pipe.capacity.adjustable",
     NEEDS("/proc/sys/fs/pipe-max-size"))
{
	int p[2];
	int asked = above_pipe_max_size();
	bool capable = has_cap_sys_resource();
	hx_pipe(p);

	errno = 0;
	int r = fcntl(p[1], F_SETPIPE_SZ, asked);
	int e = errno;

	hx_evidence("uid", "%d", (int)getuid());
	hx_evidence("cap_sys_resource", "%s", capable ? "yes" : "no");
	hx_evidence("result", "%s", r == -1 ? hx_errno_name(e) : "set");
	if (capable)
		cr_assert(r >= asked, "with CAP_SYS_RESOURCE F_SETPIPE_SZ(%d) returned %d (%s)", asked, r,
			  hx_errno_name(e));
	else
		cr_assert(r == -1 && e == EPERM, "without CAP_SYS_RESOURCE F_SETPIPE_SZ(%d) returned %d (%s)",
			  asked, r, r == -1 ? hx_errno_name(e) : "no error");
	close(p[0]);
	close(p[1]);
}

/* Writers each send framed records of 6 bytes to PIPE_BUF (sharing slots,
 * starting part-way into them, the ring going round); if every write is
 * atomic, the stream is whole records back to back, each writer's in its
 * own order. */
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
	hx_evidence("sizes_seen", "%#x", got.sizes_seen);
	cr_assert_eq(got.mixed, 0, "a record of at most PIPE_BUF bytes was interleaved (after %d, %d, %d, %d whole)",
		     got.per_writer[0], got.per_writer[1], got.per_writer[2], got.per_writer[3]);
	for (int w = 0; w < WRITERS; w++)
		cr_assert_eq(got.per_writer[w], RECORDS, "writer %d: %d whole records", w, got.per_writer[w]);
}
