/* Small I/O helpers many cases share. */
#include "internal.h"

#include <fcntl.h>
#include <limits.h>
#include <sys/resource.h>

void hx_pipe(int fds[2])
{
	if (pipe(fds) == -1)
		hx_broken("pipe: %s", strerror(errno));
}

void hx_plumbing_pipe(int fds[2])
{
	if (pipe2(fds, O_CLOEXEC) == -1)
		hx_broken("pipe2: %s", strerror(errno));
}

ssize_t hx_write_all(int fd, const void *buf, size_t n)
{
	size_t done = 0;
	while (done < n) {
		ssize_t w = write(fd, (const char *)buf + done, n - done);
		if (w == -1 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		done += (size_t)w;
	}
	return (ssize_t)done;
}

ssize_t hx_read_all(int fd, void *buf, size_t n)
{
	size_t done = 0;
	while (done < n) {
		ssize_t r = read(fd, (char *)buf + done, n - done);
		if (r == -1 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0)
			break;
		done += (size_t)r;
	}
	return (ssize_t)done;
}

long hx_fill(int fd)
{
	static const char chunk[4096];
	/* Whole chunks first, then single bytes for what a chunk no longer
	 * fits in: the measure is exact to the byte. */
	static const size_t sizes[] = { sizeof chunk, 1 };
	int flags = fcntl(fd, F_GETFL);
	long total = 0;
	fcntl(fd, F_SETFL, flags | O_NONBLOCK);
	for (size_t i = 0; i < 2; i++) {
		ssize_t w;
		while ((w = write(fd, chunk, sizes[i])) > 0)
			total += w;
		if (errno != EAGAIN)
			hx_broken("filling fd %d: %s", fd, strerror(errno));
	}
	fcntl(fd, F_SETFL, flags);
	return total;
}

/* Record sizes, cycled: from a header and a few bytes up to PIPE_BUF, so
 * records share a slot, start part-way into one and (their sum being no
 * multiple of a page) carry the ring round at every offset.  Sizes above
 * a page do not occur: PIPE_BUF is at most a page on Linux. */
static const size_t record_sizes[] = { 8, 100, 1000, 3000, PIPE_BUF - 1, PIPE_BUF, 1, 512 };
#define RECORD_HEADER 5	/* mark, size (2 bytes), sequence (2 bytes) */

static size_t record_size(int i)
{
	size_t n = record_sizes[(size_t)i % (sizeof record_sizes / sizeof record_sizes[0])];
	return n < RECORD_HEADER + 1 ? RECORD_HEADER + 1 : n;
}

void hx_write_records(int fd, int writer, int count)
{
	static unsigned char record[PIPE_BUF];
	unsigned char mark = (unsigned char)('a' + writer);
	memset(record, mark, sizeof record);
	for (int i = 0; i < count; i++) {
		size_t n = record_size(i + writer);
		record[0] = mark;
		record[1] = (unsigned char)(n >> 8);
		record[2] = (unsigned char)n;
		record[3] = (unsigned char)(i >> 8);
		record[4] = (unsigned char)i;
		if (write(fd, record, n) != (ssize_t)n)
			hx_child_fail(__FILE__, __LINE__, "short write of record %d (%zu bytes)", i, n);
	}
}

struct hx_records hx_read_records(int fd, int writers)
{
	static unsigned char got[PIPE_BUF];
	struct hx_records r = { .mixed = 0 };
	int last = -1;
	while (hx_read_all(fd, got, RECORD_HEADER) == RECORD_HEADER) {
		int w = got[0] - 'a';
		size_t n = (size_t)got[1] << 8 | got[2];
		int seq = got[3] << 8 | got[4];
		bool whole = w >= 0 && w < writers && w < HX_MAX_WRITERS &&
			     n == record_size(r.per_writer[w] + w) && seq == r.per_writer[w] &&
			     hx_read_all(fd, got + RECORD_HEADER, n - RECORD_HEADER) ==
				     (ssize_t)(n - RECORD_HEADER);
		for (size_t k = RECORD_HEADER; whole && k < n; k++)
			whole = got[k] == got[0];
		if (!whole) {
			/* The framing is lost with the first mixed record:
			 * what follows is counted as one. */
			r.mixed++;
			while (hx_read_all(fd, got, sizeof got) > 0) {}
			break;
		}
		r.per_writer[w]++;
		r.sizes_seen |= 1u << ((unsigned)(r.per_writer[w] - 1 + w) %
				       (sizeof record_sizes / sizeof record_sizes[0]));
		r.switches += last != -1 && last != w;
		last = w;
	}
	return r;
}

/* ---- descriptors -------------------------------------------------------- */

int hx_fd_scan_limit(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < FD_SCAN_MAX)
		return (int)rl.rlim_cur;
	return FD_SCAN_MAX;
}

void hx_close_nonstd_fds(void)
{
	int limit = hx_fd_scan_limit();
	for (int fd = 3; fd < limit; fd++)
		if (fd != hx_evidence_fd())
			close(fd);
}
