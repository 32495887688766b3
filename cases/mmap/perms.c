/* Which open modes allow which mappings.  The check is on the fd's open
 * mode, not on the file's permission bits, so being root changes nothing:
 * every file mapping needs a readable fd, and only a writable shared
 * mapping needs a writable one too. */
#include "backing.h"

/* A one-page file, reopened with the open mode under test. */
static int page_file_opened(int mode)
{
	int rw = backing_file("f", (size_t)hx_page_size());
	close(rw);
	return SAFE(open(hx_path("f"), mode | O_CLOEXEC));
}

/* ---- O_WRONLY ----------------------------------------------------------- */

CASE(mmap, o_wronly_fd_cannot_be_mapped_shared_even_for_prot_write_alone, "mmap.perms.wronly")
{
	int fd = page_file_opened(O_WRONLY);
	hx_evidence("euid", "%d", (int)geteuid());
	EXPECT_FAILS_WITH(mmap(NULL, hx_page_size(), PROT_WRITE, MAP_SHARED, fd, 0), EACCES);
	close(fd);
}

CASE(mmap, o_wronly_fd_cannot_be_mapped_private_even_for_prot_write_alone, "mmap.perms.wronly")
{
	int fd = page_file_opened(O_WRONLY);
	hx_evidence("euid", "%d", (int)geteuid());
	EXPECT_FAILS_WITH(mmap(NULL, hx_page_size(), PROT_WRITE, MAP_PRIVATE, fd, 0), EACCES);
	close(fd);
}

/* Nothing can ever be read through PROT_NONE, yet the read mode is still
 * required: no "hidden read" explains the rule. */
CASE(mmap, o_wronly_fd_cannot_be_mapped_even_with_prot_none, "mmap.perms.wronly")
{
	int fd = page_file_opened(O_WRONLY);
	EXPECT_FAILS_WITH(mmap(NULL, hx_page_size(), PROT_NONE, MAP_SHARED, fd, 0), EACCES);
	close(fd);
}

/* ---- O_RDONLY ----------------------------------------------------------- */

CASE(mmap, o_rdonly_fd_cannot_be_mapped_shared_with_prot_write, "mmap.perms.rdonly-shared-write")
{
	int fd = page_file_opened(O_RDONLY);
	EXPECT_FAILS_WITH(mmap(NULL, hx_page_size(), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0),
			  EACCES);
	close(fd);
}

CASE(mmap, mprotect_cannot_make_a_shared_mapping_of_an_o_rdonly_fd_writable, "mmap.perms.rdonly-shared-write")
{
	size_t ps = hx_page_size();
	int fd = page_file_opened(O_RDONLY);
	void *m = (void *)SAFE(mmap(NULL, ps, PROT_READ, MAP_SHARED, fd, 0));

	EXPECT_FAILS_WITH(mprotect(m, ps, PROT_READ | PROT_WRITE), EACCES);

	munmap(m, ps);
	close(fd);
}

/* Copy-on-write: the writes go to private copies of the pages, so the
 * file needs no write permission. */
CASE(mmap, o_rdonly_fd_maps_private_writable_and_the_writes_stay_private, "mmap.perms.at-most-open")
{
	size_t ps = hx_page_size();
	int fd = page_file_opened(O_RDONLY);

	char *m = (char *)EXPECT_OK(mmap(NULL, ps, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0));

	memcpy(m, "private", 7);
	char back[8] = "";
	SAFE(pread(fd, back, 7, 0));
	hx_evidence("mapping_starts_with", "%.7s", m);
	hx_evidence("file_starts_with", "%.7s", back);
	cr_assert(memcmp(m, "private", 7) == 0);
	cr_assert(memchr(back, 'p', 7) == NULL, "the private write reached the file: %.7s", back);
	munmap(m, ps);
	close(fd);
}

/* ---- O_RDWR ------------------------------------------------------------- */

CASE(mmap, o_rdwr_fd_maps_with_every_prot_shared_or_private, "mmap.perms.at-most-open")
{
	static const struct { int value; const char *name; } flags[] = {
		{ MAP_SHARED, "MAP_SHARED" }, { MAP_PRIVATE, "MAP_PRIVATE" },
	}, prots[] = {
		{ PROT_NONE, "PROT_NONE" }, { PROT_READ, "PROT_READ" },
		{ PROT_WRITE, "PROT_WRITE" }, { PROT_READ | PROT_WRITE, "PROT_READ|PROT_WRITE" },
	};
	size_t ps = hx_page_size();
	int fd = page_file_opened(O_RDWR), failed = 0;

	for (size_t f = 0; f < sizeof flags / sizeof *flags; f++) {
		for (size_t p = 0; p < sizeof prots / sizeof *prots; p++) {
			void *m = mmap(NULL, ps, prots[p].value, flags[f].value, fd, 0);
			char key[64];
			snprintf(key, sizeof key, "%s+%s", flags[f].name, prots[p].name);
			hx_evidence(key, "%s", m == MAP_FAILED ? hx_errno_name(errno) : "ok");
			if (m == MAP_FAILED)
				failed++;
			else
				munmap(m, ps);
		}
	}

	cr_assert_eq(failed, 0, "%d combinations failed (see evidence)", failed);
	close(fd);
}
