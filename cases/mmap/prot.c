/* The arguments the notes explain: prot (可读, 可写) and addr (填NULL). */
#include "backing.h"

static volatile char sink;

/* A page of BACKING_FILL in a new file, and the MAP_SHARED mmap of it with
 * prot, as mmap returned it. */
static char *file_page(int prot, int *fd)
{
	*fd = backing_file("f", (size_t)hx_page_size());
	return mmap(NULL, (size_t)hx_page_size(), prot, MAP_SHARED, *fd, 0);
}

CASE(mmap, prot_read_mapping_reads_the_file_bytes, "mmap.prot.read-write")
{
	long page = hx_page_size();
	int fd;
	const char *mem = (char *)EXPECT_OK(file_page(PROT_READ, &fd));

	char first = mem[0], last = mem[page - 1];

	hx_evidence("bytes_read", "%c%c", first, last);
	cr_assert(first == BACKING_FILL && last == BACKING_FILL);
	munmap((void *)mem, page);
	close(fd);
}

/* The write is refused by the page's protection, not for lack of a page:
 * SEGV_ACCERR, at the byte written. */
CASE(mmap, write_to_a_prot_read_mapping_raises_sigsegv_accerr, "mmap.prot.read-write")
{
	int fd;
	char *mem = (char *)SAFE(file_page(PROT_READ, &fd));

	pid_t writer;
	IN_CHILD(writer) {
		hx_catch_faults(mem);
		sink = mem[10];
		mem[10] = 'w';
	}

	EXPECT_FAULT_AT(writer, SIGSEGV, 10);
	EXPECT_FAULT_CODE("SEGV_ACCERR");
	cr_assert_eq(mem[10], BACKING_FILL, "the refused write reached the mapping");
	munmap(mem, (size_t)hx_page_size());
	close(fd);
}

/* mmap(2): on some architectures PROT_WRITE implies PROT_READ.  x86_64
 * and arm64 page tables cannot say "write-only", so the page is readable. */
CASE(mmap, prot_write_alone_is_readable_too, "mmap.prot.read-write")
{
	long page = hx_page_size();
	int fd;
	char *mem = (char *)EXPECT_OK(file_page(PROT_WRITE, &fd));

	/* The read comes first, in a fresh child: after a write the page is
	 * writable in the page tables and no read could be refused. */
	pid_t reader;
	IN_CHILD(reader) {
		hx_catch_faults(mem);
		char first = *(volatile char *)(mem + 1);
		hx_evidence("read_before_any_write", "%c", first);
		CHILD_EXPECT(first == BACKING_FILL, "read %c", first);
		mem[0] = 'w';
	}

	struct hx_outcome o = hx_wait(reader);
	hx_evidence("reading_a_prot_write_page", "%s", o.text);
	EXPECT_OUTCOME_EXITS(o, reader, 0);
	munmap(mem, page);
	close(fd);
}

/* addr is a hint: where it is taken, the kernel maps elsewhere rather than
 * fail or replace what is there (only MAP_FIXED does that). */
CASE(mmap, a_taken_addr_without_map_fixed_is_only_a_hint, "mmap.addr.null")
{
	long page = hx_page_size();
	int fd = backing_file("f", page);
	char *taken = (char *)SAFE(mmap(NULL, page, PROT_READ | PROT_WRITE,
					     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
	taken[0] = 'T';

	char *mem = mmap(taken, page, PROT_READ, MAP_SHARED, fd, 0);

	hx_evidence("asked_for_a_taken_address", "%s", mem == taken ? "got it" : "got another");
	cr_assert(mem != MAP_FAILED, "mmap failed: %s", hx_errno_name(errno));
	cr_assert(mem != taken, "the kernel replaced the mapping at the hint");
	cr_assert_eq(taken[0], 'T');
	cr_assert_eq(mem[0], BACKING_FILL);
	munmap(mem, page);
	munmap(taken, page);
	close(fd);
}

CASE(mmap, a_free_addr_without_map_fixed_is_taken_as_given, "mmap.addr.null")
{
	long page = hx_page_size();
	int fd = backing_file("f", page);
	char *hole = (char *)SAFE(mmap(NULL, page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
	SAFE(munmap(hole, page));

	char *mem = mmap(hole, page, PROT_READ, MAP_SHARED, fd, 0);

	hx_evidence("asked_for_a_free_address", "%s", mem == hole ? "got it" : "got another");
	cr_assert(mem == hole, "asked for %p, got %p", (void *)hole, (void *)mem);
	munmap(mem, page);
	close(fd);
}
