/* Access beyond the file or the mapping, and files too short to map:
 * the file's size decides page by page, at the moment of access, what a
 * mapping can touch; past the mapping, its neighbours do. */
#include "backing.h"

#include <stdint.h>
#include <sys/stat.h>

static volatile char sink;

/* Reads [from, to) then the byte at `to`: a fault inside the range
 * shows up at its own offset, not at the one expected. */
static void read_up_to(const char *base, size_t from, size_t to)
{
	for (size_t i = from; i <= to; i++)
		sink = ((const volatile char *)base)[i];
}

static off_t file_size(int fd)
{
	struct stat st;
	SAFE(fstat(fd, &st));
	return st.st_size;
}

/* ---- past the end of the file ------------------------------------------ */

/* EOF in the middle of the second page, a mapping of three pages: the
 * rest of page 1 is the tail of the last page, page 2 is wholly past EOF. */
static size_t eof_in_second_page(void)
{
	return (size_t)hx_page_size() + 100;
}

CASE_F(mmap, bytes_past_eof_in_the_last_page_read_as_zeros, "mmap.bounds.tail-of-last-page",
       backing, tmpfs, disk, memfd)
{
	size_t ps = hx_page_size(), size = eof_in_second_page();
	backing_fill(self, variant, size);
	int fd = self->fd;
	const char *m = (char *)SAFE(mmap(NULL, 3 * ps, PROT_READ, MAP_SHARED, fd, 0));

	size_t nonzero = 0;
	for (size_t i = size; i < 2 * ps; i++)
		nonzero += m[i] != 0;

	hx_evidence("file_size", "%zu", size);
	hx_evidence("page_size", "%zu", ps);
	hx_evidence("tail_bytes", "%zu", 2 * ps - size);
	hx_evidence("nonzero_tail_bytes", "%zu", nonzero);
	cr_assert_eq(m[size - 1], BACKING_FILL, "the last byte of the file reads %#x", m[size - 1]);
	cr_assert_eq(nonzero, 0, "%zu bytes past EOF were not zero", nonzero);
	munmap((void *)m, 3 * ps);
}

CASE_F(mmap, writes_past_eof_in_the_last_page_succeed_but_never_reach_the_file, "mmap.bounds.tail-of-last-page",
       backing, tmpfs, disk, memfd)
{
	size_t ps = hx_page_size(), size = eof_in_second_page();
	backing_fill(self, variant, size);
	int fd = self->fd;
	char *m = (char *)SAFE(mmap(NULL, 3 * ps, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0));

	memset(m + size, 'Z', 2 * ps - size);
	SAFE(munmap(m, 3 * ps));

	char *back = calloc(1, 2 * ps);
	ssize_t n = pread(fd, back, 2 * ps, 0);
	size_t foreign = 0;
	for (ssize_t i = 0; i < n; i++)
		foreign += back[i] != BACKING_FILL;
	/* Not a file byte, but still in the page cache until writeback zeroes
	 * the tail: a new mapping may show it (here only evidence). */
	const char *again = mmap(NULL, 2 * ps, PROT_READ, MAP_SHARED, fd, 0);
	if (again != MAP_FAILED) {
		hx_evidence("new_mapping_sees_past_eof", "%#x", (unsigned char)again[size]);
		munmap((void *)again, 2 * ps);
	}
	hx_evidence("written_past_eof", "%zu", 2 * ps - size);
	hx_evidence("file_size_after", "%ld", (long)file_size(fd));
	hx_evidence("read_returned", "%zd", n);
	cr_assert_eq(file_size(fd), (off_t)size, "the file grew to %ld", (long)file_size(fd));
	cr_assert_eq(n, (ssize_t)size, "read(2) returned %zd bytes", n);
	cr_assert_eq(foreign, 0, "%zu file bytes changed", foreign);
	free(back);
}

/* What lingers past EOF is not file content while the file keeps its
 * size; whether it becomes content when the file grows depends on the
 * backing, which says what to expect. */
CASE_F(mmap, growing_the_file_exposes_bytes_written_past_eof_on_shmem_not_on_disk, "mmap.bounds.tail-of-last-page",
       backing, tmpfs, disk, memfd)
{
	size_t ps = hx_page_size(), size = eof_in_second_page();
	backing_fill(self, variant, size);
	char *m = backing_map(self, variant, 2 * ps, PROT_READ | PROT_WRITE, MAP_SHARED);
	memset(m + size, 'Z', 2 * ps - size);
	SAFE(munmap(m, 2 * ps));

	EXPECT_OK(ftruncate(self->fd, (off_t)(2 * ps)));

	char grown = 0;
	SAFE(pread(self->fd, &grown, 1, (off_t)size));
	char expected = variant->grows_over_past_eof_bytes ? 'Z' : '\0';
	hx_evidence("first_grown_byte", "%#x", (unsigned char)grown);
	cr_assert_eq(grown, expected, "the first byte the file grew by reads %#x, expected %#x",
		     (unsigned char)grown, (unsigned char)expected);
}

CASE_F(mmap, access_to_the_first_whole_page_past_eof_raises_sigbus, "mmap.bounds.tail-of-last-page",
       backing, tmpfs, disk, memfd)
{
	size_t ps = hx_page_size(), size = eof_in_second_page();
	backing_fill(self, variant, size);
	int fd = self->fd;
	const char *m = (char *)SAFE(mmap(NULL, 3 * ps, PROT_READ, MAP_SHARED, fd, 0));

	pid_t toucher;
	IN_CHILD(toucher) {
		hx_catch_faults(m);
		read_up_to(m, 0, 2 * ps);
	}

	hx_evidence("file_size", "%zu", size);
	hx_evidence("page_size", "%zu", ps);
	EXPECT_FAULT_AT(toucher, SIGBUS, 2 * ps);
	EXPECT_FAULT_CODE("BUS_ADRERR");
	munmap((void *)m, 3 * ps);
}

/* ---- past the end of the mapping --------------------------------------- */

/* The file covers the whole mapping, so only the mapping's end limits
 * it; the page after it is made a hole in the child itself, where no
 * other thread can map something there meanwhile. */
CASE_F(mmap, access_past_the_end_of_the_mapping_raises_sigsegv, "mmap.bounds.past-the-mapping",
       backing, tmpfs, disk, memfd)
{
	size_t ps = hx_page_size();
	backing_fill(self, variant, 2 * ps);
	int fd = self->fd;

	pid_t toucher;
	IN_CHILD(toucher) {
		char *room = mmap(NULL, 3 * ps, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		char *m = mmap(room, 2 * ps, PROT_READ, MAP_SHARED | MAP_FIXED, fd, 0);
		CHILD_EXPECT(room != MAP_FAILED && m == room, "laying out the mapping failed");
		CHILD_EXPECT(munmap(m + 2 * ps, ps) == 0, "munmap: %s", hx_errno_name(errno));
		hx_catch_faults(m);
		read_up_to(m, 0, 2 * ps);
	}

	hx_evidence("mapping_length", "%zu", 2 * ps);
	EXPECT_FAULT_AT(toucher, SIGSEGV, 2 * ps);
	EXPECT_FAULT_CODE("SEGV_MAPERR");
}

CASE_F(mmap, write_past_the_end_of_the_mapping_lands_silently_in_the_mapping_that_follows, "mmap.bounds.past-the-mapping",
       backing, tmpfs, disk, memfd)
{
	size_t ps = hx_page_size();
	backing_fill(self, variant, ps);
	int fd = self->fd;
	char *room = (char *)SAFE(mmap(NULL, 2 * ps, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
	char *m = (char *)SAFE(mmap(room, ps, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, 0));
	char *next = (char *)SAFE(mmap(room + ps, ps, PROT_READ | PROT_WRITE,
					    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0));

	memcpy(m + ps, "overrun", 7);

	char first[8] = "";
	SAFE(pread(fd, first, 7, 0));
	hx_evidence("next_mapping_starts_with", "%.7s", next);
	hx_evidence("file_size_after", "%ld", (long)file_size(fd));
	cr_assert(memcmp(next, "overrun", 7) == 0, "the overrun did not land in the next mapping");
	cr_assert_eq(file_size(fd), (off_t)ps);
	cr_assert(memchr(first, 'o', 7) == NULL, "the file changed: %.7s", first);
	munmap(room, 2 * ps);
}

/* ---- a file of size zero ----------------------------------------------- */

CASE_F(mmap, mmap_of_an_empty_file_succeeds, "mmap.empty-file.mmap-succeeds",
       backing, tmpfs, disk, memfd)
{
	size_t ps = hx_page_size();
	int fd = self->fd;

	void *m = mmap(NULL, ps, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

	hx_evidence("file_size", "%ld", (long)file_size(fd));
	hx_evidence("mmap", "%s", m == MAP_FAILED ? hx_errno_name(errno) : "ok");
	cr_assert_neq(m, MAP_FAILED, "mmap of an empty file failed: %s", hx_errno_name(errno));
	munmap(m, ps);
}

CASE_F(mmap, first_write_to_a_mapping_of_an_empty_file_raises_sigbus_at_offset_0, "mmap.empty-file.access-sigbus",
       backing, tmpfs, disk, memfd)
{
	size_t ps = hx_page_size();
	int fd = self->fd;
	char *m = (char *)SAFE(mmap(NULL, ps, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0));

	pid_t writer;
	IN_CHILD(writer) {
		hx_catch_faults(m);
		strcpy(m, "hello");
	}

	EXPECT_FAULT_AT(writer, SIGBUS, 0);
	EXPECT_FAULT_CODE("BUS_ADRERR");
	munmap(m, ps);
}

/* A one-byte read cannot be misaligned: the bus error is the page past
 * EOF (BUS_ADRERR), not alignment (BUS_ADRALN). */
CASE_F(mmap, sigbus_from_an_empty_file_is_bus_adrerr_past_eof_not_an_alignment_error, "mmap.empty-file.not-alignment",
       backing, tmpfs, disk, memfd)
{
	size_t ps = hx_page_size();
	int fd = self->fd;
	const char *m = (char *)SAFE(mmap(NULL, ps, PROT_READ, MAP_SHARED, fd, 0));

	pid_t reader;
	IN_CHILD(reader) {
		hx_catch_faults(m);
		sink = m[0];
	}

	EXPECT_FAULT_AT(reader, SIGBUS, 0);
	EXPECT_FAULT_CODE("BUS_ADRERR");
	munmap((void *)m, ps);
}

CASE_F(mmap, misaligned_access_to_mapped_bytes_does_not_fault, "mmap.empty-file.not-alignment",
       backing, tmpfs, disk, memfd, anon, zero)
{
	size_t ps = hx_page_size();
	backing_fill(self, variant, ps);
	char *m = backing_map(self, variant, ps, PROT_READ | PROT_WRITE, MAP_SHARED);

	pid_t toucher;
	IN_CHILD(toucher) {
		hx_catch_faults(m);
		/* packed: an 8-byte access the compiler may make at any
		 * address (a misaligned plain uint64_t * is undefined). */
		struct __attribute__((packed)) word { uint64_t v; };
		volatile struct word *odd = (volatile struct word *)(void *)(m + 1);
		odd->v = UINT64_C(0x0102030405060708);
		uint64_t back = odd->v;
		CHILD_EXPECT(back == UINT64_C(0x0102030405060708), "read back %#llx",
			     (unsigned long long)back);
	}

	hx_evidence("access", "8 bytes at offset 1");
	EXPECT_EXITS(toucher, 0);
	munmap(m, ps);
}

/* The usual length, the file's size, is what fails for an empty file. */
CASE_F(mmap, mmap_with_the_length_of_an_empty_file_fails_with_einval, "mmap.empty-file.length-zero",
       backing, tmpfs, disk, memfd)
{
	int fd = self->fd;
	size_t length = (size_t)file_size(fd);

	EXPECT_FAILS_WITH(mmap(NULL, length, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0), EINVAL);

	hx_evidence("length", "%zu", length);
}

/* ---- giving the file a size -------------------------------------------- */

static void expect_mapping_reaches_the_file(int fd, size_t length)
{
	char *m = (char *)EXPECT_OK(mmap(NULL, length, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0));
	memcpy(m + length - 5, "hello", 5);
	SAFE(munmap(m, length));
	char back[6] = "";
	SAFE(pread(fd, back, 5, (off_t)length - 5));
	hx_evidence("file_tail", "%s", back);
	cr_assert_str_eq(back, "hello");
}

CASE_F(mmap, ftruncate_before_mmap_makes_a_new_file_mappable, "mmap.empty-file.extend-first",
       backing, tmpfs, disk, memfd)
{
	size_t ps = hx_page_size();
	int fd = self->fd;

	EXPECT_OK(ftruncate(fd, (off_t)ps));

	hx_evidence("file_size", "%ld", (long)file_size(fd));
	expect_mapping_reaches_the_file(fd, ps);
}

CASE_F(mmap, truncate_by_path_before_mmap_makes_a_new_file_mappable, "mmap.empty-file.extend-first",
       backing, tmpfs, disk, memfd)
{
	size_t ps = hx_page_size();
	int fd = self->fd;

	EXPECT_OK(truncate(self->path, (off_t)ps));

	hx_evidence("file_size", "%ld", (long)file_size(fd));
	expect_mapping_reaches_the_file(fd, ps);
}

/* The same mapping faults, then works: the size counts when a page is
 * touched, not when mmap is called. */
CASE_F(mmap, extending_the_file_after_mmap_makes_the_faulting_pages_usable, "mmap.empty-file.extend-first",
       backing, tmpfs, disk, memfd)
{
	size_t ps = hx_page_size();
	int fd = self->fd;
	char *m = (char *)SAFE(mmap(NULL, 2 * ps, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0));
	pid_t before;
	IN_CHILD(before) {
		hx_catch_faults(m);
		m[0] = 'x';
	}
	EXPECT_FAULT_AT(before, SIGBUS, 0);

	EXPECT_OK(ftruncate(fd, (off_t)(2 * ps)));

	pid_t after;
	IN_CHILD(after) {
		hx_catch_faults(m);
		m[0] = 'x';
		m[2 * ps - 1] = 'y';
	}
	EXPECT_EXITS(after, 0);
	char first = 0, last = 0;
	SAFE(pread(fd, &first, 1, 0));
	SAFE(pread(fd, &last, 1, (off_t)(2 * ps - 1)));
	hx_evidence("file_bytes", "%c..%c", first ? first : '0', last ? last : '0');
	cr_assert(first == 'x' && last == 'y', "the writes after extending did not reach the file");
	munmap(m, 2 * ps);
}
