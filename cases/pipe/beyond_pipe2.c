/* pipe2's flags and packet mode (pipe(2) O_CLOEXEC, O_NONBLOCK, O_DIRECT):
 * beyond the notes, which know plain pipe() only. */
#include "ipcproof.h"

#include <fcntl.h>
#include <limits.h>
#include <sys/ioctl.h>

static void close_both(int p[2])
{
	close(p[0]);
	close(p[1]);
}

CASE(pipe, pipe2_cloexec_sets_fd_cloexec_on_both_ends, "pipe.pipe2.cloexec-sets-fd-cloexec")
{
	int p[2];
	SAFE(pipe2(p, O_CLOEXEC));

	int f0 = fcntl(p[0], F_GETFD), f1 = fcntl(p[1], F_GETFD);

	hx_evidence("fd0_cloexec", "%d", !!(f0 & FD_CLOEXEC));
	hx_evidence("fd1_cloexec", "%d", !!(f1 & FD_CLOEXEC));
	cr_assert(f0 & FD_CLOEXEC, "read end lacks FD_CLOEXEC (flags %#x)", f0);
	cr_assert(f1 & FD_CLOEXEC, "write end lacks FD_CLOEXEC (flags %#x)", f1);
	close_both(p);
}

/* The program exec runs says which of the two descriptor numbers it still
 * has: exit status 2*(cloexec one missing) + (plain one missing). */
CASE(pipe, pipe2_cloexec_end_is_closed_in_the_exec_program_and_a_plain_end_is_not,
     "pipe.pipe2.cloexec-closes-on-exec")
{
	int c[2], plain[2];
	SAFE(pipe2(c, O_CLOEXEC));
	hx_pipe(plain);
	char script[160];
	snprintf(script, sizeof script,
		 "test -e /proc/self/fd/%d; a=$?; test -e /proc/self/fd/%d; exit $((a * 2 + $?))",
		 c[1], plain[1]);
	pid_t child;
	IN_CHILD(child) {
		execl("/bin/sh", "sh", "-c", script, (char *)NULL);
		CHILD_EXPECT(0, "exec /bin/sh: %s", hx_errno_name(errno));
	}
	struct hx_outcome o = hx_wait(child);
	hx_evidence("exec_status", "%d", o.code);
	hx_evidence("open_after_exec", "%s%s", o.code & 2 ? "" : "cloexec,", o.code & 1 ? "" : "plain");
	close_both(c);
	close_both(plain);
	/* 2: the O_CLOEXEC end is gone, the plain end is still there. */
	EXPECT_OUTCOME_EXITS(o, child, 2);
}

CASE(pipe, pipe2_nonblock_sets_o_nonblock_on_both_ends_and_an_empty_read_fails_with_eagain,
     "pipe.pipe2.nonblock-on-both-ends")
{
	int p[2];
	char b;
	SAFE(pipe2(p, O_NONBLOCK));
	int f0 = fcntl(p[0], F_GETFL), f1 = fcntl(p[1], F_GETFL);

	hx_evidence("fd0_nonblock", "%d", !!(f0 & O_NONBLOCK));
	hx_evidence("fd1_nonblock", "%d", !!(f1 & O_NONBLOCK));
	cr_assert(f0 & O_NONBLOCK, "read end flags %#x", f0);
	cr_assert(f1 & O_NONBLOCK, "write end flags %#x", f1);
	EXPECT_FAILS_WITH(read(p[0], &b, 1), EAGAIN);
	close_both(p);
}

CASE(pipe, pipe2_direct_returns_one_write_per_read, "pipe.pipe2.direct-is-packet-mode")
{
	int p[2];
	char buf[100];
	SAFE(pipe2(p, O_DIRECT));
	SAFE(write(p[1], "abc", 3));
	SAFE(write(p[1], "defgh", 5));

	ssize_t r1 = read(p[0], buf, sizeof buf), r2 = read(p[0], buf, sizeof buf);

	int fl_w = fcntl(p[1], F_GETFL), fl_r = fcntl(p[0], F_GETFL);
	hx_evidence("read_sizes", "%zd,%zd", r1, r2);
	hx_evidence("o_direct_on", "write=%d,read=%d", !!(fl_w & O_DIRECT), !!(fl_r & O_DIRECT));
	cr_assert(r1 == 3 && r2 == 5, "reads of 100 returned %zd and %zd, expected 3 and 5", r1, r2);
	cr_assert(fl_w & O_DIRECT, "the write end's flags %#x lack O_DIRECT", fl_w);
	close_both(p);
}

CASE(pipe, packet_read_shorter_than_the_packet_discards_the_rest, "pipe.packet.short-read-discards-the-rest")
{
	int p[2], queued = -1;
	char buf[8] = "";
	SAFE(pipe2(p, O_DIRECT | O_NONBLOCK));
	SAFE(write(p[1], "defgh", 5));

	ssize_t n = read(p[0], buf, 2);

	SAFE(ioctl(p[0], FIONREAD, &queued));
	hx_evidence("read", "%zd", n);
	hx_evidence("fionread_after", "%d", queued);
	cr_assert(n == 2 && !memcmp(buf, "de", 2), "read(2) returned %zd '%.2s'", n, buf);
	cr_assert_eq(queued, 0, "%d bytes of the packet are still queued", queued);
	EXPECT_FAILS_WITH(read(p[0], buf, sizeof buf), EAGAIN);
	close_both(p);
}

/* The kernel cuts packets at the page, which is PIPE_BUF only where pages
 * are 4 KiB: two and a half pages tell the two apart on every page size. */
CASE(pipe, packet_write_above_pipe_buf_is_split_into_pipe_buf_packets, "pipe.packet.large-writes-split-at-pipe-buf")
{
	int p[2];
	long page = hx_page_size();
	size_t size = 2 * page + page / 2;
	char *big = calloc(size, 1), *buf = malloc(4 * size);
	if (!big || !buf)
		hx_broken("no memory for %zu bytes", 5 * size);
	SAFE(pipe2(p, O_DIRECT | O_NONBLOCK));
	cr_assert_eq(SAFE(write(p[1], big, size)), (ssize_t)size);

	ssize_t got[4];
	for (int i = 0; i < 4; i++)
		got[i] = read(p[0], buf, 4 * size);

	hx_evidence("read_sizes", "%zd,%zd,%zd", got[0], got[1], got[2]);
	hx_evidence("page_size", "%ld", page);
	cr_assert(got[0] == page && got[1] == page && got[2] == page / 2,
		  "reads returned %zd, %zd, %zd; the page is %ld", got[0], got[1], got[2], page);
	cr_assert(got[3] == -1 && errno == EAGAIN, "a fourth packet: %zd", got[3]);
	close_both(p);
	free(big);
	free(buf);
}

CASE(pipe, packet_pipe_is_full_after_one_byte_per_slot, "pipe.packet.one-slot-per-packet")
{
	int p[2], stream[2];
	SAFE(pipe2(p, O_DIRECT | O_NONBLOCK));
	SAFE(pipe2(stream, O_NONBLOCK));
	long slots = SAFE(fcntl(p[1], F_GETPIPE_SZ)) / hx_page_size();

	long packets = 0;
	while (write(p[1], "x", 1) == 1)
		packets++;
	int err = errno;
	long stream_bytes = 0;
	while (write(stream[1], "x", 1) == 1)
		stream_bytes++;

	hx_evidence("packets", "%ld", packets);
	hx_evidence("slots", "%ld", slots);
	hx_evidence("stream_one_byte_writes", "%ld", stream_bytes);
	cr_assert_eq(err, EAGAIN, "the write after the last packet: %s", hx_errno_name(err));
	cr_assert_eq(packets, slots, "%ld one-byte packets fitted in %ld slots", packets, slots);
	cr_assert_eq(stream_bytes, slots * hx_page_size(), "byte-stream mode took %ld", stream_bytes);
	close_both(p);
	close_both(stream);
}

CASE(pipe, pipe2_with_a_flag_other_than_cloexec_direct_nonblock_fails_with_einval,
     "pipe.pipe2.invalid-flags-einval")
{
	int p[2] = { -1, -1 };

	EXPECT_FAILS_WITH(pipe2(p, O_APPEND), EINVAL);
	hx_evidence("o_append", "%s", hx_evidence_str("errno"));
	EXPECT_FAILS_WITH(pipe2(p, O_RDWR), EINVAL);

	cr_assert(p[0] == -1 && p[1] == -1, "the array was filled: %d %d", p[0], p[1]);
}
