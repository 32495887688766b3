/* Protections as the MMU and /proc/self/maps show them, the order of
 * mmap's checks, and munmap at vm.max_map_count: what LTP's mmap and
 * munmap tests check beyond the notes. */
#include "ipcproof.h"

#include <fcntl.h>
#include <stdint.h>
#include <sys/mman.h>

static void *map_anon(int prot, int flags)
{
	return (void *)SAFE(mmap(NULL, hx_page_size(), prot, flags | MAP_ANONYMOUS, -1, 0));
}

/* The perms field ("rw-s") of the /proc/self/maps line starting at addr. */
static const char *perms_of(const void *addr)
{
	static char perms[8];
	char line[512], start[32];
	snprintf(start, sizeof start, "%lx-", (unsigned long)(uintptr_t)addr);
	FILE *f = fopen("/proc/self/maps", "r");
	if (!f)
		hx_broken("cannot read /proc/self/maps");
	strcpy(perms, "none");
	while (fgets(line, sizeof line, f))
		if (!strncmp(line, start, strlen(start))) {
			sscanf(line, "%*s %7s", perms);
			break;
		}
	fclose(f);
	return perms;
}

CASE(mmap, prot_none_page_faults_with_segv_accerr_on_any_access, "mmap.prot.none-faults-with-accerr")
{
	volatile char *page = map_anon(PROT_NONE, MAP_PRIVATE);
	hx_evidence("maps_perms", "%s", perms_of((void *)page));
	pid_t reader;
	IN_CHILD(reader) {
		hx_catch_faults((void *)page);
		(void)page[0];
		CHILD_EXPECT(0, "a read of a PROT_NONE page did not fault");
	}

	EXPECT_FAULT_AT(reader, SIGSEGV, 0);
	EXPECT_FAULT_CODE("SEGV_ACCERR");
	cr_assert_str_eq(hx_evidence_str("maps_perms"), "---p");
	SAFE(mprotect((void *)page, hx_page_size(), PROT_READ));
	cr_assert_eq(page[0], 0, "after mprotect(PROT_READ) the page reads %d", page[0]);
	munmap((void *)page, hx_page_size());
}

#if defined(__x86_64__) || defined(__aarch64__)
static void put_return(unsigned char *page)
{
#if defined(__x86_64__)
	page[0] = 0xc3;	/* ret */
#else
	uint32_t ret = 0xd65f03c0;
	memcpy(page, &ret, sizeof ret);
#endif
	__builtin___clear_cache((char *)page, (char *)page + 16);
}
#endif

static pid_t call_page(void *page)
{
	pid_t child;
	IN_CHILD(child) {
		hx_catch_faults(page);
		((void (*)(void))page)();
	}
	return child;
}

CASE(mmap, code_runs_from_a_prot_exec_page_and_faults_with_segv_accerr_without_it, "mmap.prot.exec-is-needed-to-run-code")
{
#if defined(__x86_64__) || defined(__aarch64__)
	unsigned char *page = map_anon(PROT_READ | PROT_WRITE, MAP_PRIVATE);
	put_return(page);
	SAFE(mprotect(page, hx_page_size(), PROT_READ));

	pid_t no_exec = call_page(page);

	EXPECT_FAULT_AT(no_exec, SIGSEGV, 0);
	EXPECT_FAULT_CODE("SEGV_ACCERR");
	SAFE(mprotect(page, hx_page_size(), PROT_READ | PROT_EXEC));
	pid_t exec = call_page(page);
	EXPECT_EXITS(exec, 0);
	hx_evidence("exec_perms", "%s", perms_of(page));
	munmap(page, hx_page_size());
#else
	cr_skip_test("no instruction to run written for this architecture");
#endif
}

CASE(mmap, proc_self_maps_spells_each_protection_and_sharing, "mmap.maps.shows-the-protections")
{
	static const struct {
		int prot, flags;
		const char *perms;
	} want[] = {
		{ PROT_READ, MAP_SHARED, "r--s" },
		{ PROT_READ | PROT_WRITE, MAP_SHARED, "rw-s" },
		{ PROT_READ | PROT_WRITE, MAP_PRIVATE, "rw-p" },
		{ PROT_WRITE, MAP_SHARED, "-w-s" },
		{ PROT_EXEC, MAP_SHARED, "--xs" },
		{ PROT_NONE, MAP_PRIVATE, "---p" },
		{ PROT_READ | PROT_EXEC, MAP_PRIVATE, "r-xp" },
	};
	enum { N = sizeof want / sizeof want[0] };
	void *map[N];
	char got[N][8], all[128] = "";
	for (int i = 0; i < N; i++)
		map[i] = map_anon(want[i].prot, want[i].flags);

	for (int i = 0; i < N; i++)
		snprintf(got[i], sizeof got[i], "%s", perms_of(map[i]));

	for (int i = 0; i < N; i++)
		snprintf(all + strlen(all), sizeof all - strlen(all), "%s%s", i ? "," : "", got[i]);
	hx_evidence("perms", "%s", all);
	for (int i = 0; i < N; i++) {
		cr_expect_str_eq(got[i], want[i].perms, "mapping %d shows %s, expected %s", i, got[i], want[i].perms);
		munmap(map[i], hx_page_size());
	}
}

CASE(mmap, mmap_checks_offset_then_fd_then_length_then_flags_then_open_mode, "mmap.errors.which-error-wins")
{
	long pg = hx_page_size();
	int fd = (int)SAFE(open(hx_path("f"), O_RDWR | O_CREAT, 0600));
	SAFE(ftruncate(fd, pg));
	close(fd);
	int wr = (int)SAFE(open(hx_path("f"), O_WRONLY));

	EXPECT_FAILS_WITH(mmap(NULL, pg, PROT_READ, MAP_SHARED, -1, 1), EINVAL);
	hx_evidence("bad_fd_and_offset", "%s", hx_evidence_str("errno"));
	EXPECT_FAILS_WITH(mmap(NULL, 0, PROT_READ, MAP_SHARED, -1, 0), EBADF);
	hx_evidence("bad_fd_and_length_0", "%s", hx_evidence_str("errno"));
	EXPECT_FAILS_WITH(mmap(NULL, 0, PROT_READ, MAP_SHARED, wr, 0), EINVAL);
	hx_evidence("wronly_and_length_0", "%s", hx_evidence_str("errno"));
	EXPECT_FAILS_WITH(mmap(NULL, pg, PROT_READ, 0, wr, 0), EINVAL);
	hx_evidence("wronly_and_flags_0", "%s", hx_evidence_str("errno"));
	EXPECT_FAILS_WITH(mmap(NULL, pg, PROT_READ, MAP_SHARED, wr, 0), EACCES);
	hx_evidence("wronly_alone", "%s", hx_evidence_str("errno"));

	close(wr);
}

/* The most mappings the case makes: distributions that raise the limit
 * raise it to 1048576 (some 250 MB of the kernel's memory for them);
 * gVisor says 2147483647. */
enum { MAX_MAPPINGS = 1 << 20 };

/* In a child: the whole address space of mappings is its own to fill. */
CASE(mmap, munmap_splitting_a_mapping_at_max_map_count_fails_with_enomem, "mmap.munmap.enomem-at-max-map-count")
{
	long max = 0;
	FILE *f = fopen("/proc/sys/vm/max_map_count", "re");
	if (!f || fscanf(f, "%ld", &max) != 1)
		hx_broken("cannot read vm.max_map_count");
	fclose(f);
	hx_evidence("max_map_count", "%ld", max);
	if (max > MAX_MAPPINGS)
		cr_skip_test("vm.max_map_count is %ld: the case makes %d mappings at most", max, MAX_MAPPINGS);
	/* A page a mapping at the least, and the process has others: a 32-bit
	 * address space (2^20 pages of 4 KiB) runs out before 1048576. */
	if ((size_t)max > SIZE_MAX / (size_t)hx_page_size() / 2)
		cr_skip_test("vm.max_map_count is %ld: more mappings than half this address space's %zu pages",
			     max, SIZE_MAX / (size_t)hx_page_size() + 1);
	pid_t child;
	IN_CHILD(child) {
		long pg = hx_page_size(), n = 0;
		/* Three pages that are one mapping of their own: fenced by
		 * PROT_NONE pages, no neighbour (another mapping, the heap) can
		 * merge with them, so trimming the first page is a trim, not a
		 * split, wherever the kernel places them. */
		char *fenced = mmap(NULL, 5 * pg, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		char *big = fenced == MAP_FAILED ? MAP_FAILED : fenced + pg;
		/* Mappings two per call: making every other page of one PROT_NONE
		 * region readable splits it, where a page of mmap makes one (the
		 * limit takes a TCG guest or gVisor seconds to reach). */
		size_t want = 2 * (size_t)max + 2;
		char *region = want <= SIZE_MAX / (size_t)pg ?
			mmap(NULL, want * pg, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0) : MAP_FAILED;
		/* No room for it (a 32-bit address space, a raised limit): then a
		 * page of mmap a mapping, all the way. */
		long pages = region == MAP_FAILED ? 0 : (long)want;
		CHILD_EXPECT(big != MAP_FAILED && mprotect(big, 3 * pg, PROT_READ | PROT_WRITE) == 0, "set-up: %s",
			     hx_errno_name(errno));
		long split_pages = 0;
		while (2 * split_pages + 1 < pages - 1 &&
		       mprotect(region + (2 * split_pages + 1) * pg, pg, PROT_READ) == 0)
			split_pages++;
		/* Then a page at a time, until mmap fails: the limit's own sign.
		 * Neighbours with other protections never merge: one mapping each.
		 * The process had mappings before, so max more can never all
		 * succeed where the limit holds: a kernel without it is seen at
		 * that count, not at the case's time limit. */
		int full = 0;
		for (n = 2 * split_pages; n < max; n++) {
			void *m = mmap(NULL, pg, n % 2 ? PROT_READ : PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			if (m == MAP_FAILED) {
				full = errno;
				break;
			}
		}

		int split = munmap(big + pg, pg), split_err = errno;
		int prot = mprotect(big + pg, pg, PROT_READ), prot_err = errno;
		int trim = munmap(big, pg);

		/* Room for what follows (the evidence): readable pages of the
		 * region are whole mappings, their unmapping splits nothing. */
		for (long i = 0; i < 16 && i < split_pages; i++)
			munmap(region + (2 * i + 1) * pg, pg);
		hx_evidence("mmap_at_limit", "%s", full ? hx_errno_name(full) : "no failure");
		hx_evidence("munmap_middle", "%s", split ? hx_errno_name(split_err) : "ok");
		hx_evidence("mprotect_middle", "%s", prot ? hx_errno_name(prot_err) : "ok");
		hx_evidence("munmap_first_page", "%s", trim ? hx_errno_name(errno) : "ok");
		CHILD_EXPECT(full == ENOMEM, "mmap %s after %ld mappings", full ? hx_errno_name(full) : "had not failed", n);
		CHILD_EXPECT(split == -1 && split_err == ENOMEM, "munmap of the middle page: %s",
			     split ? hx_errno_name(split_err) : "succeeded");
		CHILD_EXPECT(prot == -1 && prot_err == ENOMEM, "mprotect of the middle page: %s",
			     prot ? hx_errno_name(prot_err) : "succeeded");
		CHILD_EXPECT(trim == 0, "munmap of the first page failed");
	}
	EXPECT_EXITS(child, 0);
}
