/* How mmap fails: one errno per reason (the permission errors are in
 * perms.c, the zero length in bounds.c), some expected failures that do
 * not happen, and what using MAP_FAILED as a pointer does. */
#include "backing.h"

#include <limits.h>
#include <stdint.h>
#include <sys/stat.h>

/* A bit no kernel up to 6.x gives a meaning to. */
#define UNKNOWN_MAP_FLAG 0x200000

CASE(mmap, mmap_of_fd_minus_one_without_map_anonymous_fails_with_ebadf, "mmap.errors.many")
{
	EXPECT_FAILS_WITH(mmap(NULL, hx_page_size(), PROT_READ, MAP_SHARED, -1, 0), EBADF);
}

CASE(mmap, mmap_with_neither_map_shared_nor_map_private_fails_with_einval, "mmap.errors.many")
{
	int fd = backing_file("f", (size_t)hx_page_size());
	EXPECT_FAILS_WITH(mmap(NULL, hx_page_size(), PROT_READ, 0, fd, 0), EINVAL);
	close(fd);
}

/* The two bits together are the value of MAP_SHARED_VALIDATE: a shared
 * mapping whose other flags are checked, not an error. */
CASE(mmap, map_shared_with_map_private_is_map_shared_validate_and_maps_shared, "mmap.errors.many")
{
	size_t ps = hx_page_size();
	int fd = backing_file("f", ps);

	char *m = (char *)EXPECT_OK(mmap(NULL, ps, PROT_READ | PROT_WRITE,
					 MAP_SHARED | MAP_PRIVATE, fd, 0));

	memcpy(m, "shared", 6);
	char back[7] = "";
	SAFE(pread(fd, back, 6, 0));
	hx_evidence("flags", "%#x", MAP_SHARED | MAP_PRIVATE);
	hx_evidence("map_shared_validate", "%#x", MAP_SHARED_VALIDATE);
	hx_evidence("file_starts_with", "%s", back);
	cr_assert_eq(MAP_SHARED | MAP_PRIVATE, MAP_SHARED_VALIDATE);
	cr_assert_str_eq(back, "shared", "the write did not reach the file");
	munmap(m, ps);
	close(fd);
}

CASE(mmap, map_shared_ignores_an_unknown_flag, "mmap.errors.many")
{
	size_t ps = hx_page_size();
	int fd = backing_file("f", ps);

	void *m = mmap(NULL, ps, PROT_READ, MAP_SHARED | UNKNOWN_MAP_FLAG, fd, 0);

	hx_evidence("flag", "%#x", UNKNOWN_MAP_FLAG);
	hx_evidence("mmap", "%s", m == MAP_FAILED ? hx_errno_name(errno) : "ok");
	cr_assert_neq(m, MAP_FAILED);
	munmap(m, ps);
	close(fd);
}

CASE(mmap, map_shared_validate_rejects_an_unknown_flag_with_eopnotsupp, "mmap.errors.many")
{
	int fd = backing_file("f", (size_t)hx_page_size());
	hx_evidence("flag", "%#x", UNKNOWN_MAP_FLAG);
	EXPECT_FAILS_WITH(mmap(NULL, hx_page_size(), PROT_READ, MAP_SHARED_VALIDATE | UNKNOWN_MAP_FLAG,
			       fd, 0), EOPNOTSUPP);
	close(fd);
}

/* mmap(2) lists a non-regular file under EACCES; a readable directory
 * fd gets ENODEV: it has no mmap operation. */
CASE(mmap, mmap_of_a_directory_fails_with_enodev, "mmap.errors.many")
{
	SAFE(mkdir(hx_path("dir"), 0700));
	int fd = SAFE(open(hx_path("dir"), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
	EXPECT_FAILS_WITH(mmap(NULL, hx_page_size(), PROT_READ, MAP_SHARED, fd, 0), ENODEV);
	close(fd);
}

CASE(mmap, mmap_of_a_fifo_fails_with_enodev, "mmap.errors.many")
{
	SAFE(mkfifo(hx_path("fifo"), 0600));
	int fd = SAFE(open(hx_path("fifo"), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
	EXPECT_FAILS_WITH(mmap(NULL, hx_page_size(), PROT_READ, MAP_SHARED, fd, 0), ENODEV);
	close(fd);
}

CASE(mmap, map_fixed_at_an_address_not_on_a_page_boundary_fails_with_einval, "mmap.errors.many")
{
	size_t ps = hx_page_size();
	int fd = backing_file("f", ps);
	char *room = (char *)SAFE(mmap(NULL, 2 * ps, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
	EXPECT_FAILS_WITH(mmap(room + 1, ps, PROT_READ, MAP_SHARED | MAP_FIXED, fd, 0), EINVAL);
	munmap(room, 2 * ps);
	close(fd);
}

CASE(mmap, mmap_longer_than_the_address_space_fails_with_enomem, "mmap.errors.many")
{
	int fd = backing_file("f", (size_t)hx_page_size());
	/* The largest page-aligned size_t: more than any address space, on
	 * 32-bit and 64-bit alike. */
	size_t length = SIZE_MAX & ~(size_t)(hx_page_size() - 1);
	hx_evidence("length", "%#zx", length);
	EXPECT_FAILS_WITH(mmap(NULL, length, PROT_READ, MAP_SHARED, fd, 0), ENOMEM);
	close(fd);
}

/* mmap(2) places EOVERFLOW on 32-bit systems only; 64-bit Linux gives it
 * too when the range ends past the largest file offset. */
CASE(mmap, mmap_ending_past_the_largest_file_offset_fails_with_eoverflow, "mmap.errors.many")
{
	long ps = hx_page_size();
	/* The largest offset is a 64-bit off_t's (a build without
	 * _FILE_OFFSET_BITS=64 on a 32-bit machine cannot name it). */
	if (sizeof(off_t) < 8)
		cr_skip_test("off_t is %zu bytes: the largest file offset cannot be passed", sizeof(off_t));
	int fd = backing_file("f", (size_t)ps);
	off_t offset = (off_t)(INT64_MAX & ~(int64_t)(ps - 1));
	hx_evidence("offset", "%#llx", (long long)offset);
	hx_evidence("length", "%ld", 2 * ps);
	EXPECT_FAILS_WITH(mmap(NULL, 2 * (size_t)ps, PROT_READ, MAP_SHARED, fd, offset), EOVERFLOW);
	close(fd);
}

CASE(mmap, map_fixed_noreplace_over_an_existing_mapping_fails_with_eexist, "mmap.errors.many")
{
	size_t ps = hx_page_size();
	int fd = backing_file("f", ps);
	void *taken = (void *)SAFE(mmap(NULL, ps, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
	EXPECT_FAILS_WITH(mmap(taken, ps, PROT_READ, MAP_SHARED | MAP_FIXED_NOREPLACE, fd, 0), EEXIST);
	munmap(taken, ps);
	close(fd);
}

/* The EPERM a process can provoke alone: a file seal, not a mount. */
CASE(mmap, writable_shared_mmap_of_a_write_sealed_memfd_fails_with_eperm, "mmap.errors.many")
{
	size_t ps = hx_page_size();
	int fd = SAFE(memfd_create("sealed", MFD_ALLOW_SEALING | MFD_CLOEXEC));
	SAFE(ftruncate(fd, (off_t)ps));
	SAFE(fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE));
	EXPECT_FAILS_WITH(mmap(NULL, ps, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0), EPERM);
	close(fd);
}

/* ---- not checking the result -------------------------------------------- */

/* The notes' own mistake, unchecked: the first use of the "address" is
 * a write to (void *)-1, where nothing can ever be mapped. */
CASE(mmap, using_map_failed_as_the_mapping_dies_of_sigsegv_at_address_minus_one, "mmap.errors.unchecked-result")
{
	size_t ps = hx_page_size();
	int fd = backing_file("f", ps);
	int ro = SAFE(open(hx_path("f"), O_RDONLY | O_CLOEXEC));

	pid_t careless;
	IN_CHILD(careless) {
		hx_catch_faults(NULL);
		char *mem = mmap(NULL, ps, PROT_READ | PROT_WRITE, MAP_SHARED, ro, 0);
		int err = errno;
		hx_evidence("mmap_errno", "%s", hx_errno_name(err));
		/* The failure the truth names, not any failure: EACCES for a
		 * shared writable mapping of a read-only descriptor. */
		CHILD_EXPECT(mem == MAP_FAILED && err == EACCES, "mmap returned %p (%s)", (void *)mem,
			     hx_errno_name(err));
		/* One byte, at the address itself: a wider store from
		 * 0xffffffff crosses 4 GiB, which a 32-bit process on a 64-bit
		 * kernel meets as a protection fault (SI_KERNEL at 0), not as
		 * the page fault at -1 that the use of MAP_FAILED is. */
		*(volatile char *)mem = 'h';
	}

	EXPECT_FAULT_AT(careless, SIGSEGV, (long)MAP_FAILED);
	EXPECT_FAULT_CODE("SEGV_MAPERR");
	close(ro);
	close(fd);
}
