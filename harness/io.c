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

void hx_write_records(int fd, int writer, int count)
{
	static char record[PIPE_BUF];
	memset(record, 'a' + writer, sizeof record);
	for (int i = 0; i < count; i++)
		if (write(fd, record, sizeof record) != sizeof record)
			hx_child_fail(__FILE__, __LINE__, "short write of record %d", i);
}

struct hx_records hx_read_records(int fd, int writers)
{
	static char got[PIPE_BUF];
	struct hx_records r = { .mixed = 0 };
	int last = -1;
	while (hx_read_all(fd, got, sizeof got) == sizeof got) {
		int w = got[0] - 'a';
		if (w >= 0 && w < writers && w < HX_MAX_WRITERS &&
		    memcmp(got, got + 1, sizeof got - 1) == 0) {
			r.per_writer[w]++;
			r.switches += last != -1 && last != w;
			last = w;
		} else {
			r.mixed++;
		}
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
