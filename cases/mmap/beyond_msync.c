/* msync, madvise and mremap (msync(2), madvise(2), mremap(2)) on shared
 * and private mappings. */
#include "ipcproof.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>

static int file_of(const char *name, char fill, long pages)
{
	int fd = (int)SAFE(open(hx_path(name), O_RDWR | O_CREAT | O_TRUNC, 0600));
	SAFE(ftruncate(fd, pages * hx_page_size()));
	SAFE(pwrite(fd, &fill, 1, 0));
	return fd;
}

static char *map_fd(int fd, long pages, int flags)
{
	return (char *)SAFE(mmap(NULL, pages * hx_page_size(), PROT_READ | PROT_WRITE, flags, fd, 0));
}

static char *map_anon(long pages, int flags)
{
	return map_fd(-1, pages, flags | MAP_ANONYMOUS);
}

/* Three pages with the middle one unmapped. */
static char *map_with_hole(int fd)
{
	char *m = map_fd(fd, 3, MAP_SHARED);
	SAFE(munmap(m + hx_page_size(), hx_page_size()));
	return m;
}

static void unmap_with_hole(char *m)
{
	munmap(m, hx_page_size());
	munmap(m + 2 * hx_page_size(), hx_page_size());
}

CASE(mmap, msync_refuses_both_sync_flags_unaligned_addresses_holes_and_invalidating_locked_pages, "mmap.msync.errors")
{
	long pg = hx_page_size();
	int fd = file_of("f", 'x', 3);
	char *m = map_fd(fd, 1, MAP_SHARED);

	EXPECT_FAILS_WITH(msync(m, pg, MS_SYNC | MS_ASYNC), EINVAL);
	EXPECT_FAILS_WITH(msync(m + 1, pg, MS_SYNC), EINVAL);
	hx_evidence("unaligned", "%s", hx_evidence_str("errno"));
	SAFE(mlock(m, pg));
	EXPECT_FAILS_WITH(msync(m, pg, MS_INVALIDATE), EBUSY);
	hx_evidence("invalidate_locked", "%s", hx_evidence_str("errno"));
	cr_assert_eq(msync(m, pg, 0), 0, "flags 0 were refused: %s", hx_errno_name(errno));
	char *h = map_with_hole(fd);
	EXPECT_FAILS_WITH(msync(h, 3 * pg, MS_SYNC), ENOMEM);

	unmap_with_hole(h);
	munlock(m, pg);
	munmap(m, pg);
	close(fd);
}

CASE(mmap, msync_of_a_private_mapping_succeeds_and_writes_nothing, "mmap.msync.private-mapping-writes-nothing")
{
	int fd = file_of("f", 'F', 1);
	char *m = map_fd(fd, 1, MAP_PRIVATE);
	char on_file = 0;
	m[0] = 'P';

	EXPECT_OK(msync(m, hx_page_size(), MS_SYNC));

	SAFE(pread(fd, &on_file, 1, 0));
	hx_evidence("file_byte", "%c", on_file);
	cr_assert_eq(on_file, 'F', "the file holds '%c' after msync of a private store", on_file);
	munmap(m, hx_page_size());
	close(fd);
}

CASE(mmap, madv_dontneed_zeroes_private_anonymous_rereads_private_file_keeps_shared_file,
     "mmap.madvise.dontneed-depends-on-the-backing")
{
	long pg = hx_page_size();
	int fd = file_of("f", 'F', 1);
	char *anon = map_anon(1, MAP_PRIVATE), *priv = map_fd(fd, 1, MAP_PRIVATE), *shared = map_fd(fd, 1, MAP_SHARED);
	anon[1] = 'A';
	priv[1] = 'P';
	shared[2] = 'S';

	EXPECT_OK(madvise(anon, pg, MADV_DONTNEED));
	EXPECT_OK(madvise(priv, pg, MADV_DONTNEED));
	EXPECT_OK(madvise(shared, pg, MADV_DONTNEED));

	hx_evidence("after", "anon=%d,private_file=%d,shared_file=%c", anon[1], priv[1], shared[2]);
	cr_assert_eq(anon[1], 0, "private anonymous page kept %d", anon[1]);
	cr_assert_eq(priv[1], 0, "private file page kept its private store");
	cr_assert_eq(priv[0], 'F', "private file page does not read the file again");
	cr_assert_eq(shared[2], 'S', "shared file page lost the stored byte");
	munmap(anon, pg);
	munmap(priv, pg);
	munmap(shared, pg);
	close(fd);
}

CASE(mmap, madv_remove_punches_a_shared_mapping_and_is_eacces_on_a_private_one, "mmap.madvise.remove-needs-shared")
{
	long pg = hx_page_size();
	int fd = (int)SAFE(memfd_create("ipcproof-remove", 0));
	SAFE(ftruncate(fd, pg));
	SAFE(pwrite(fd, "tmpfs", 5, 0));
	char *shared = map_fd(fd, 1, MAP_SHARED), *priv = map_fd(fd, 1, MAP_PRIVATE);
	char back[5] = "x";
	struct stat st;

	EXPECT_OK(madvise(shared, pg, MADV_REMOVE));

	SAFE(pread(fd, back, 5, 0));
	SAFE(fstat(fd, &st));
	hx_evidence("after_remove", "%d,size=%ld", back[0], (long)st.st_size);
	cr_assert(!memcmp(back, "\0\0\0\0\0", 5), "the removed range reads '%.5s'", back);
	cr_assert_eq(st.st_size, pg, "the file's size changed to %ld", (long)st.st_size);
	EXPECT_FAILS_WITH(madvise(priv, pg, MADV_REMOVE), EACCES);
	munmap(shared, pg);
	munmap(priv, pg);
	close(fd);
}

CASE(mmap, madvise_refuses_unaligned_addresses_unknown_advice_and_holes, "mmap.madvise.errors")
{
	long pg = hx_page_size();
	int fd = file_of("f", 'x', 3);
	char *h = map_with_hole(fd);

	EXPECT_FAILS_WITH(madvise(h + 1, pg, MADV_NORMAL), EINVAL);
	EXPECT_FAILS_WITH(madvise(h, pg, 12345), EINVAL);
	hx_evidence("unknown_advice", "%s", hx_evidence_str("errno"));
	EXPECT_FAILS_WITH(madvise(h, 3 * pg, MADV_NORMAL), ENOMEM);

	unmap_with_hole(h);
	close(fd);
}

CASE(mmap, mremap_with_old_size_0_duplicates_a_shared_mapping_and_refuses_a_private_one,
     "mmap.mremap.old-size-zero-duplicates-a-shared-mapping")
{
	long pg = hx_page_size();
	char *shared = map_anon(1, MAP_SHARED), *priv = map_anon(1, MAP_PRIVATE);
	strcpy(shared, "one");

	char *copy = (char *)EXPECT_OK(mremap(shared, 0, pg, MREMAP_MAYMOVE));
	strcpy(copy, "two");

	hx_evidence("original_reads", "%s", shared);
	cr_assert(copy != shared, "the duplicate is the original address");
	cr_assert_str_eq(shared, "two", "a store through the duplicate is not in the original");
	EXPECT_FAILS_WITH(mremap(priv, 0, pg, MREMAP_MAYMOVE), EINVAL);
	munmap(copy, pg);
	munmap(shared, pg);
	munmap(priv, pg);
}

CASE(mmap, shared_mapping_grown_by_mremap_stays_shared_with_a_child_forked_before,
     "mmap.mremap.grown-shared-mapping-stays-shared")
{
	long pg = hx_page_size();
	char *m = map_anon(1, MAP_SHARED);
	/* A page right after it, so growing must move the mapping. */
	char *wall = (char *)mmap(m + pg, pg, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	pid_t child;
	IN_CHILD(child) {
		hx_checkpoint_wait(0);
		CHILD_EXPECT(!strcmp(m, "grown"), "the child's old address reads '%.8s'", m);
	}

	char *grown = (char *)EXPECT_OK(mremap(m, pg, 4 * pg, MREMAP_MAYMOVE));
	strcpy(grown, "grown");
	hx_checkpoint_wake(0);

	EXPECT_EXITS(child, 0);
	hx_evidence("moved", "%s", grown != m ? "yes" : "no");
	munmap(grown, 4 * pg);
	if (wall != MAP_FAILED)
		munmap(wall, pg);
}

CASE(mmap, mremap_fixed_without_maymove_is_einval_and_growing_into_a_neighbour_is_enomem, "mmap.mremap.errors")
{
	long pg = hx_page_size();
	char *m = map_anon(2, MAP_PRIVATE), *elsewhere = map_anon(2, MAP_PRIVATE);
	SAFE(mprotect(m + pg, pg, PROT_READ));	/* the second page: a neighbour of its own */

	EXPECT_FAILS_WITH(mremap(m, pg, pg, MREMAP_FIXED, elsewhere), EINVAL);
	hx_evidence("fixed_without_maymove", "%s", hx_evidence_str("errno"));
	EXPECT_FAILS_WITH(mremap(m, pg, 2 * pg, 0), ENOMEM);

	munmap(m, 2 * pg);
	munmap(elsewhere, 2 * pg);
}

CASE(mmap, file_mapping_grown_past_eof_by_mremap_faults_with_sigbus_on_the_page_past_it,
     "mmap.mremap.grown-file-mapping-past-eof-sigbus")
{
	long pg = hx_page_size();
	int fd = file_of("f", 'x', 2);
	char *m = map_fd(fd, 1, MAP_SHARED);

	volatile char *grown = (char *)EXPECT_OK(mremap(m, pg, 3 * pg, MREMAP_MAYMOVE));

	pid_t child;
	IN_CHILD(child) {
		hx_catch_faults((void *)grown);
		CHILD_EXPECT(grown[pg] == 0, "the second page, inside the file, did not read");
		grown[2 * pg] = 1;
		CHILD_EXPECT(0, "a store past EOF did not fault");
	}
	EXPECT_FAULT_AT(child, SIGBUS, 2 * pg);
	EXPECT_FAULT_CODE("BUS_ADRERR");
	munmap((void *)grown, 3 * pg);
	close(fd);
}
