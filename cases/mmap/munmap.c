/* munmap: what it returns, and what a moved pointer ("mem++") does. */
#include "backing.h"

#include <stdint.h>

/* Three pages of a file, mapped shared for reading and writing. */
static char *three_pages(int *fd)
{
	long page = hx_page_size();
	*fd = backing_file("f", 3 * page);
	return (char *)SAFE(mmap(NULL, 3 * page, PROT_READ | PROT_WRITE, MAP_SHARED, *fd, 0));
}

CASE(mmap, munmap_returns_0_on_success, "mmap.return.munmap")
{
	long page = hx_page_size();
	int fd;
	char *mem = three_pages(&fd);

	int r = munmap(mem, 3 * page);

	char line[512];
	maps_line(mem, line, sizeof line);
	hx_evidence("returned", "%d", r);
	cr_assert_eq(r, 0, "munmap: %s", hx_errno_name(errno));
	cr_assert_str_empty(line, "still mapped: %s", line);
	close(fd);
}

/* Beyond the top of the user address space: no mapping can be there. */
CASE(mmap, munmap_failure_returns_minus_1_with_errno, "mmap.return.munmap")
{
	long page = hx_page_size();
	void *top = (void *)(uintptr_t)-page;

	errno = 0;
	int r = munmap(top, page);
	int err = errno;

	hx_evidence("returned", "%d", r);
	hx_evidence("errno", "%s", hx_errno_name(err));
	cr_assert_eq(r, -1);
	cr_assert_eq(err, EINVAL, "errno is %s", hx_errno_name(err));
}

CASE(mmap, munmap_of_unaligned_address_fails_with_einval, "mmap.munmap.moved-pointer")
{
	long page = hx_page_size();
	int fd;
	char *mem = three_pages(&fd);
	char *moved = mem;
	moved++;

	EXPECT_FAILS_WITH(munmap(moved, 3 * page), EINVAL);

	char line[512];
	maps_line(mem + 2 * page, line, sizeof line);
	hx_evidence("maps", "%s", line);
	cr_assert(line[0], "the failed munmap still unmapped the last page");
	munmap(mem, 3 * page);
	close(fd);
}

CASE(mmap, munmap_of_length_0_fails_with_einval, "mmap.munmap.moved-pointer")
{
	long page = hx_page_size();
	int fd;
	char *mem = three_pages(&fd);

	EXPECT_FAILS_WITH(munmap(mem, 0), EINVAL);

	munmap(mem, 3 * page);
	close(fd);
}

CASE(mmap, munmap_from_a_page_aligned_pointer_inside_the_mapping_returns_0, "mmap.munmap.moved-pointer")
{
	long page = hx_page_size();
	int fd;
	char *mem = three_pages(&fd);

	int r = munmap(mem + page, 2 * page);

	hx_evidence("returned", "%d", r);
	cr_assert_eq(r, 0, "munmap(mem + %ld): %s", page, hx_errno_name(errno));
	munmap(mem, page);
	close(fd);
}

/* The pages before the pointer stay mapped (and still reach the file);
 * the first byte from the pointer on faults. */
CASE(mmap, munmap_from_inside_the_mapping_unmaps_only_the_pages_from_there_on, "mmap.munmap.moved-pointer")
{
	long page = hx_page_size();
	int fd;
	char *mem = three_pages(&fd);

	EXPECT_OK(munmap(mem + page, 2 * page));

	pid_t toucher;
	IN_CHILD(toucher) {
		hx_catch_faults(mem);
		mem[0] = 'K';
		mem[page - 1] = 'K';
		(void)*(volatile char *)(mem + page);
	}
	EXPECT_FAULT_AT(toucher, SIGSEGV, page);
	EXPECT_FAULT_CODE("SEGV_MAPERR");
	char gone[512];
	maps_line(mem + page, gone, sizeof gone);
	cr_assert_str_empty(gone, "the unmapped pages are still in the maps: %s", gone);
	char kept[2] = "";
	SAFE(pread(fd, &kept[0], 1, 0));
	SAFE(pread(fd, &kept[1], 1, page - 1));
	hx_evidence("file_bytes_written_through_first_page", "%.2s", kept);
	cr_assert(kept[0] == 'K' && kept[1] == 'K', "the first page no longer reaches the file");
	munmap(mem, page);
	close(fd);
}

/* munmap(mem + page, len) with the original length also takes whatever
 * lies after the mapping: here a PROT_NONE guard page we own. */
CASE(mmap, munmap_from_inside_with_the_original_length_unmaps_past_the_mapping, "mmap.munmap.moved-pointer")
{
	long page = hx_page_size();
	int fd = backing_file("f", 3 * page);
	char *area = (char *)SAFE(mmap(NULL, 4 * page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
	char *mem = (char *)SAFE(mmap(area, 3 * page, PROT_READ | PROT_WRITE,
					   MAP_SHARED | MAP_FIXED, fd, 0));

	EXPECT_OK(munmap(mem + page, 3 * page));

	char first[512], guard[512];
	maps_line(mem, first, sizeof first);
	maps_line(area + 3 * page, guard, sizeof guard);
	hx_evidence("first_page", "%s", first);
	hx_evidence("guard_page", "%s", guard[0] ? guard : "unmapped");
	cr_assert(first[0], "the first page was unmapped too");
	cr_assert_str_empty(guard, "the page after the mapping is still mapped: %s", guard);
	munmap(area, 4 * page);
	close(fd);
}

CASE(mmap, munmap_of_a_range_with_nothing_mapped_returns_0, "mmap.munmap.moved-pointer")
{
	long page = hx_page_size();
	int fd;
	char *mem = three_pages(&fd);
	EXPECT_OK(munmap(mem, 3 * page));
	close(fd);

	char line[512];
	maps_line(mem, line, sizeof line);
	cr_assert_str_empty(line, "something is mapped there again: %s", line);

	errno = 0;
	int r = munmap(mem, 3 * page);

	hx_evidence("returned", "%d", r);
	hx_evidence("errno", "%s", r ? hx_errno_name(errno) : "none");
	cr_assert_eq(r, 0);
}
