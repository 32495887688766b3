/* What mmap returns, and the page as its unit: the address, the offset
 * and the extent of a mapping are all whole pages. */
#include "backing.h"

#include <stdint.h>

CASE(mmap, mmap_returns_a_page_aligned_address, "mmap.return.address")
{
	long page = hx_page_size();
	int fd = backing_file("f", page);

	char *mem = mmap(NULL, 100, PROT_READ, MAP_SHARED, fd, 0);

	hx_evidence("page_size", "%ld", page);
	hx_evidence("address_mod_page", "%lu", (unsigned long)((uintptr_t)mem % page));
	cr_assert(mem != MAP_FAILED, "mmap failed: %s", hx_errno_name(errno));
	cr_assert_eq((uintptr_t)mem % page, 0, "address %p is not page-aligned", (void *)mem);
	munmap(mem, 100);
	close(fd);
}

CASE(mmap, mmap_returns_the_address_of_the_file_byte_at_offset, "mmap.return.address")
{
	long page = hx_page_size();
	int fd = backing_file("f", 2 * page);
	SAFE(pwrite(fd, "O", 1, page));

	char *mem = mmap(NULL, page, PROT_READ, MAP_SHARED, fd, page);

	cr_assert(mem != MAP_FAILED, "mmap failed: %s", hx_errno_name(errno));
	hx_evidence("offset", "%ld", page);
	hx_evidence("first_byte", "%c", mem[0]);
	cr_assert_eq(mem[0], 'O', "the returned address holds '%c', not file byte %ld", mem[0], page);
	munmap(mem, page);
	close(fd);
}

CASE(mmap, mmap_failure_returns_map_failed_which_is_minus_one_with_errno, "mmap.return.map-failed")
{
	errno = 0;
	void *mem = mmap(NULL, 100, PROT_READ, MAP_SHARED, -1, 0);
	int err = errno;

	hx_evidence("returned", "%p", mem);
	hx_evidence("errno", "%s", hx_errno_name(err));
	cr_assert(mem == MAP_FAILED && mem == (void *)-1, "mmap returned %p", mem);
	cr_assert_eq(err, EBADF, "errno is %s", hx_errno_name(err));
}

CASE(mmap, mmap_with_offset_not_a_page_multiple_fails_with_einval, "mmap.offset.page-multiple")
{
	long page = hx_page_size();
	int fd = backing_file("f", 3 * page);
	const long offsets[] = { 1, page / 2, page - 1, page + 512 };
	char tried[128] = "";

	for (size_t i = 0; i < sizeof offsets / sizeof offsets[0]; i++) {
		errno = 0;
		void *mem = mmap(NULL, page, PROT_READ, MAP_SHARED, fd, offsets[i]);
		int err = errno;
		snprintf(tried + strlen(tried), sizeof tried - strlen(tried), "%s%ld:%s",
			 i ? "," : "", offsets[i], mem == MAP_FAILED ? hx_errno_name(err) : "mapped");
		if (mem != MAP_FAILED)
			munmap(mem, page);
	}

	hx_evidence("page_size", "%ld", page);
	hx_evidence("offsets", "%s", tried);
	char expected[128];
	snprintf(expected, sizeof expected, "1:EINVAL,%ld:EINVAL,%ld:EINVAL,%ld:EINVAL",
		 page / 2, page - 1, page + 512);
	cr_assert_str_eq(tried, expected);
	close(fd);
}

CASE(mmap, mmap_with_offset_a_page_multiple_succeeds, "mmap.offset.page-multiple")
{
	long page = hx_page_size();
	int fd = backing_file("f", 3 * page);

	char *mem = mmap(NULL, page, PROT_READ, MAP_SHARED, fd, 2 * page);

	hx_evidence("page_size", "%ld", page);
	hx_evidence("offset", "%ld", 2 * page);
	cr_assert(mem != MAP_FAILED, "mmap at offset %ld failed: %s", 2 * page, hx_errno_name(errno));
	munmap(mem, page);
	close(fd);
}

CASE(mmap, mmap_accepts_a_length_that_is_not_a_page_multiple, "mmap.length.whole-pages")
{
	long page = hx_page_size();
	int fd = backing_file("f", page);

	char *mem = mmap(NULL, 100, PROT_READ, MAP_SHARED, fd, 0);

	hx_evidence("length", "100");
	hx_evidence("page_size", "%ld", page);
	cr_assert(mem != MAP_FAILED, "mmap of 100 bytes failed: %s", hx_errno_name(errno));
	munmap(mem, 100);
	close(fd);
}

/* A file mapping, so no neighbour merges into the maps entry. */
CASE(mmap, mapping_of_a_partial_page_length_spans_the_whole_page, "mmap.length.whole-pages")
{
	long page = hx_page_size();
	int fd = backing_file("f", 2 * page);

	char *mem = (char *)EXPECT_OK(mmap(NULL, 100, PROT_READ, MAP_SHARED, fd, 0));

	char line[512];
	unsigned long start = 0, end = 0;
	maps_line(mem, line, sizeof line);
	sscanf(line, "%lx-%lx", &start, &end);
	hx_evidence("maps", "%s", line);
	hx_evidence("mapped_bytes", "%lu", end - start);
	cr_assert_eq(start, (unsigned long)mem);
	cr_assert_eq(end - start, (unsigned long)page, "100 bytes asked, %lu mapped", end - start);
	munmap(mem, 100);
	close(fd);
}

CASE(mmap, write_past_the_length_within_the_last_page_reaches_the_file, "mmap.length.whole-pages")
{
	long page = hx_page_size();
	int fd = backing_file("f", 2 * page);
	char *mem = (char *)EXPECT_OK(mmap(NULL, 100, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0));

	pid_t toucher;
	IN_CHILD(toucher) {
		hx_catch_faults(mem);
		mem[page - 1] = 'W';
	}
	EXPECT_EXITS(toucher, 0);

	char seen = 0;
	SAFE(pread(fd, &seen, 1, page - 1));
	hx_evidence("written_at", "%ld", page - 1);
	hx_evidence("file_byte", "%c", seen);
	cr_assert_eq(seen, 'W', "file byte %ld is '%c'", page - 1, seen);
	munmap(mem, 100);
	close(fd);
}

CASE(mmap, munmap_of_a_partial_page_length_unmaps_the_whole_page, "mmap.length.whole-pages")
{
	long page = hx_page_size();
	int fd = backing_file("f", 2 * page);
	char *mem = (char *)SAFE(mmap(NULL, 2 * page, PROT_READ, MAP_SHARED, fd, 0));

	EXPECT_OK(munmap(mem, 1));

	pid_t toucher;
	IN_CHILD(toucher) {
		hx_catch_faults(mem);
		CHILD_EXPECT(*(volatile char *)(mem + page) == BACKING_FILL, "second page changed");
		(void)*(volatile char *)(mem + page - 1);
	}
	EXPECT_FAULT_AT(toucher, SIGSEGV, page - 1);
	EXPECT_FAULT_CODE("SEGV_MAPERR");
	munmap(mem + page, page);
	close(fd);
}
