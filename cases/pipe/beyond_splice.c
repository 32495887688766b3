/* splice, tee and vmsplice (splice(2), tee(2), vmsplice(2)): moving pipe
 * buffers without copying through user space. */
#include "ipcproof.h"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/uio.h>

static int queued(int fd)
{
	int n = -1;
	SAFE(ioctl(fd, FIONREAD, &n));
	return n;
}

static int file_with(const char *name, const char *text)
{
	int fd = (int)SAFE(open(hx_path(name), O_RDWR | O_CREAT | O_TRUNC, 0600));
	SAFE(pwrite(fd, text, strlen(text), 0));
	return fd;
}

CASE(pipe, splice_moves_file_bytes_through_the_pipe_and_updates_the_offsets,
     "pipe.splice.moves-bytes-between-file-and-pipe")
{
	int p[2];
	char back[16] = "";
	hx_pipe(p);
	int in = file_with("in", "hello splice");
	int out = file_with("out", "");
	loff_t off = 5;

	ssize_t into = splice(in, NULL, p[1], NULL, 12, 0);
	ssize_t outof = splice(p[0], NULL, out, &off, 12, 0);

	off_t in_pos = lseek(in, 0, SEEK_CUR), out_pos = lseek(out, 0, SEEK_CUR);
	SAFE(pread(out, back, 12, 5));
	hx_evidence("spliced", "%zd,%zd", into, outof);
	hx_evidence("offsets", "in_fd=%ld,off=%ld,out_fd=%ld", (long)in_pos, (long)off, (long)out_pos);
	cr_assert(into == 12 && outof == 12, "splice moved %zd then %zd", into, outof);
	cr_assert(in_pos == 12, "the source's offset is %ld", (long)in_pos);
	cr_assert(off == 17 && out_pos == 0, "off %ld, the target fd's offset %ld", (long)off, (long)out_pos);
	cr_assert_eq(queued(p[0]), 0);
	cr_assert_str_eq(back, "hello splice");
	close(in);
	close(out);
	close(p[0]);
	close(p[1]);
}

CASE(pipe, splice_without_a_pipe_is_einval_and_an_offset_on_the_pipe_is_espipe,
     "pipe.splice.needs-a-pipe-and-no-pipe-offset")
{
	int p[2];
	hx_pipe(p);
	int a = file_with("a", "abc"), b = file_with("b", "");
	loff_t off = 0;

	EXPECT_FAILS_WITH(splice(a, NULL, b, NULL, 3, 0), EINVAL);
	hx_evidence("no_pipe", "%s", hx_evidence_str("errno"));
	EXPECT_FAILS_WITH(splice(a, NULL, p[1], &off, 3, 0), ESPIPE);

	close(a);
	close(b);
	close(p[0]);
	close(p[1]);
}

CASE(pipe, tee_copies_queued_bytes_to_another_pipe_and_leaves_them, "pipe.tee.duplicates-without-consuming")
{
	int a[2], b[2], empty[2];
	hx_pipe(a);
	hx_pipe(b);
	hx_pipe(empty);
	cr_assert_eq(hx_write_all(a[1], "tee me twice", 12), 12);

	ssize_t n = tee(a[0], b[1], 100, 0);

	hx_evidence("teed", "%zd", n);
	hx_evidence("queued", "a=%d,b=%d", queued(a[0]), queued(b[0]));
	cr_assert_eq(n, 12);
	cr_assert(queued(a[0]) == 12 && queued(b[0]) == 12, "a holds %d, b %d", queued(a[0]), queued(b[0]));
	EXPECT_FAILS_WITH(tee(a[0], a[1], 1, 0), EINVAL);
	hx_evidence("same_pipe", "%s", hx_evidence_str("errno"));
	EXPECT_FAILS_WITH(tee(empty[0], b[1], 1, SPLICE_F_NONBLOCK), EAGAIN);
	int *ends[] = { a, b, empty };
	for (int i = 0; i < 3; i++) {
		close(ends[i][0]);
		close(ends[i][1]);
	}
}

CASE(pipe, vmsplice_queues_the_user_pages_so_a_later_store_is_what_the_reader_gets,
     "pipe.vmsplice.pipe-refers-to-user-pages")
{
	int p[2];
	char got[16] = "";
	char *page = (char *)SAFE(mmap(NULL, hx_page_size(), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
	hx_pipe(p);
	memcpy(page, "vmsplice!", 9);
	struct iovec iov = { page, 9 };

	ssize_t n = vmsplice(p[1], &iov, 1, 0);
	int err = errno;
	memcpy(page, "CHANGED!!", 9);

	/* Before the read: with fewer than 9 bytes queued and this process
	 * holding the write end, the read would wait for ever. */
	hx_evidence("vmspliced", "%zd%s%s", n, n < 0 ? " " : "", n < 0 ? hx_errno_name(err) : "");
	cr_assert_eq(n, 9, "vmsplice queued %zd of 9 bytes", n);
	cr_assert_eq(hx_read_all(p[0], got, 9), 9);
	hx_evidence("read", "%s", got);
	cr_assert_str_eq(got, "CHANGED!!", "the reader got '%s': a copy, not the pages", got);
	cr_assert_eq(hx_write_all(p[1], "back", 4), 4);
	struct iovec into = { got, sizeof got };
	memset(got, 0, sizeof got);
	ssize_t r = vmsplice(p[0], &into, 1, 0);
	hx_evidence("from_read_end", "%zd:%s", r, got);
	cr_assert(r == 4 && !strcmp(got, "back"), "vmsplice on the read end gave %zd '%s'", r, got);
	munmap(page, hx_page_size());
	close(p[0]);
	close(p[1]);
}
