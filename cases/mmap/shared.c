/* What reaches the file: MAP_SHARED writes do, MAP_PRIVATE writes never
 * do; and the mapping outlives the descriptor it was made from. */
#include "backing.h"

#include <stdint.h>
#include <sys/stat.h>

static const char message[] = "through the mapping";

/* The file's bytes at offset, as read(2) sees them (not the mapping). */
static void file_bytes(int fd, off_t offset, char *buf, size_t n)
{
	memset(buf, 0, n);
	if (pread(fd, buf, n - 1, offset) != (ssize_t)(n - 1))
		hx_broken("pread: %s", strerror(errno));
}

/* What the file's first bytes read as before anyone writes them. */
static void untouched(char *buf, size_t n)
{
	memset(buf, BACKING_FILL, n - 1);
	buf[n - 1] = '\0';
}

static char *map(struct hx_fx_backing *self, const struct hx_fv_backing *variant, size_t len,
		 int flags)
{
	return backing_map(self, variant, len, PROT_READ | PROT_WRITE, flags);
}

/* len bytes of BACKING_FILL in the file, mapped read-write with flags. */
static char *filled(struct hx_fx_backing *self, const struct hx_fv_backing *variant, size_t len,
		    int flags)
{
	backing_fill(self, variant, len);
	return map(self, variant, len, flags);
}

CASE_F(mmap, shared_mapping_write_is_seen_by_read_of_the_file, "mmap.shared.writes-reach-file", backing, tmpfs, disk, memfd)
{
	long page = hx_page_size();
	char *mem = filled(self, variant, page, MAP_SHARED);
	char seen[sizeof message];

	memcpy(mem + 100, message, sizeof message - 1);

	file_bytes(self->fd, 100, seen, sizeof seen);
	hx_evidence("read_at_100", "%s", seen);
	cr_assert_str_eq(seen, message, "read(2) of the file gave \"%s\" (no msync was made)", seen);
	munmap(mem, page);
}

CASE_F(mmap, shared_mapping_write_is_seen_by_another_process_reading_the_file, "mmap.shared.writes-reach-file", backing, tmpfs, disk, memfd)
{
	long page = hx_page_size();
	char *mem = filled(self, variant, page, MAP_SHARED);
	memcpy(mem, message, sizeof message - 1);

	pid_t reader;
	IN_CHILD(reader) {
		char seen[sizeof message] = "";
		int own = open(self->path, O_RDONLY);
		CHILD_EXPECT(own >= 0 && read(own, seen, sizeof seen - 1) == sizeof seen - 1,
			     "open or read: %s", hx_errno_name(errno));
		hx_evidence("other_process_read", "%s", seen);
		CHILD_EXPECT(strcmp(seen, message) == 0, "the other process read \"%s\"", seen);
	}
	EXPECT_EXITS(reader, 0);
	munmap(mem, page);
}

CASE_F(mmap, shared_mapping_write_stays_in_the_file_after_munmap, "mmap.shared.writes-reach-file", backing, tmpfs, disk, memfd)
{
	long page = hx_page_size();
	char *mem = filled(self, variant, page, MAP_SHARED);
	memcpy(mem, message, sizeof message - 1);
	/* Opened before the last close: a memfd has no other name. */
	int again = backing_reopen(self, O_RDONLY);
	backing_close(self);

	SAFE(munmap(mem, page));

	char seen[sizeof message];
	file_bytes(again, 0, seen, sizeof seen);
	close(again);
	hx_evidence("read_after_munmap", "%s", seen);
	cr_assert_str_eq(seen, message);
}

/* The other direction: the mapping is the file's page cache, so it shows
 * write(2) to the file at once. */
CASE_F(mmap, write_to_the_file_is_seen_through_a_shared_mapping, "mmap.shared.writes-reach-file", backing, tmpfs, disk, memfd)
{
	long page = hx_page_size();
	char *mem = filled(self, variant, page, MAP_SHARED);

	EXPECT_OK(pwrite(self->fd, message, sizeof message - 1, 10));

	hx_evidence("mapping_at_10", "%.*s", (int)sizeof message - 1, mem + 10);
	cr_assert(memcmp(mem + 10, message, sizeof message - 1) == 0);
	munmap(mem, page);
}

CASE_F(mmap, private_mapping_write_is_not_seen_by_read_of_the_file, "mmap.private.writes-stay-private", backing, tmpfs, disk, memfd)
{
	long page = hx_page_size();
	char *mem = filled(self, variant, page, MAP_PRIVATE);
	char seen[sizeof message], fill[sizeof message];
	untouched(fill, sizeof fill);

	memcpy(mem, message, sizeof message - 1);

	file_bytes(self->fd, 0, seen, sizeof seen);
	hx_evidence("mapping_at_0", "%.*s", (int)sizeof message - 1, mem);
	hx_evidence("read_at_0", "%s", seen);
	cr_assert(memcmp(mem, message, sizeof message - 1) == 0, "the write did not land in the mapping");
	cr_assert_str_eq(seen, fill, "read(2) of the file gave \"%s\"", seen);
	munmap(mem, page);
}

CASE_F(mmap, private_mapping_write_is_not_in_the_file_after_munmap, "mmap.private.writes-stay-private", backing, tmpfs, disk, memfd)
{
	long page = hx_page_size();
	char *mem = filled(self, variant, page, MAP_PRIVATE);
	char seen[sizeof message], fill[sizeof message];
	untouched(fill, sizeof fill);
	memcpy(mem, message, sizeof message - 1);

	SAFE(munmap(mem, page));
	SAFE(fsync(self->fd));

	file_bytes(self->fd, 0, seen, sizeof seen);
	backing_close(self);
	hx_evidence("read_after_munmap", "%s", seen);
	cr_assert_str_eq(seen, fill);
}

CASE_F(mmap, private_mapping_write_is_not_seen_by_another_mapping_of_the_file, "mmap.private.writes-stay-private", backing, tmpfs, disk, memfd)
{
	long page = hx_page_size();
	char *mine = filled(self, variant, page, MAP_PRIVATE);
	char *other = map(self, variant, page, MAP_SHARED);

	mine[0] = 'P';

	hx_evidence("other_mapping_at_0", "%c", other[0]);
	cr_assert_eq(mine[0], 'P');
	cr_assert_eq(other[0], BACKING_FILL, "the other mapping shows '%c'", other[0]);
	munmap(mine, page);
	munmap(other, page);
}

/* Private is not a snapshot: the copy is made a page at a time, on the
 * first write to that page. */
CASE_F(mmap, private_mapping_shows_later_file_changes_in_pages_it_has_not_written, "mmap.private.writes-stay-private", backing, tmpfs, disk, memfd)
{
	long page = hx_page_size();
	char *mem = filled(self, variant, 2 * page, MAP_PRIVATE);
	mem[0] = 'P';

	EXPECT_OK(pwrite(self->fd, "F", 1, page));

	hx_evidence("unwritten_page_shows", "%c", mem[page]);
	cr_assert_eq(mem[page], 'F', "the private mapping shows '%c' at offset %ld", mem[page], page);
	munmap(mem, 2 * page);
}

CASE_F(mmap, private_mapping_stops_showing_file_changes_in_a_page_it_has_written, "mmap.private.writes-stay-private", backing, tmpfs, disk, memfd)
{
	long page = hx_page_size();
	char *mem = filled(self, variant, page, MAP_PRIVATE);
	mem[0] = 'P';

	EXPECT_OK(pwrite(self->fd, "F", 1, 1));

	hx_evidence("written_page_shows", "%c", mem[1]);
	cr_assert_eq(mem[1], BACKING_FILL, "the private copy shows '%c' at offset 1", mem[1]);
	munmap(mem, page);
}

/* The mapping holds its own reference to the open file, not the fd. */
CASE_F(mmap, shared_mapping_write_reaches_the_file_after_the_fd_is_closed, "mmap.fd.close-after-mmap", backing, tmpfs, disk)
{
	long page = hx_page_size();
	char *mem = filled(self, variant, page, MAP_SHARED);
	backing_close(self);

	memcpy(mem, message, sizeof message - 1);

	char seen[sizeof message];
	int reader = backing_reopen(self, O_RDONLY);
	file_bytes(reader, 0, seen, sizeof seen);
	close(reader);
	hx_evidence("read_at_0", "%s", seen);
	cr_assert_str_eq(seen, message);
	munmap(mem, page);
}

CASE_F(mmap, shared_mapping_shows_file_changes_after_the_fd_is_closed, "mmap.fd.close-after-mmap", backing, tmpfs, disk)
{
	long page = hx_page_size();
	char *mem = filled(self, variant, page, MAP_SHARED);
	backing_close(self);

	int writer = backing_reopen(self, O_WRONLY);
	EXPECT_OK(pwrite(writer, message, sizeof message - 1, 0));
	close(writer);

	hx_evidence("mapping_at_0", "%.*s", (int)sizeof message - 1, mem);
	cr_assert(memcmp(mem, message, sizeof message - 1) == 0);
	munmap(mem, page);
}

CASE_F(mmap, mapping_keeps_the_file_alive_after_close_and_unlink, "mmap.fd.close-after-mmap", backing, tmpfs, disk)
{
	long page = hx_page_size();
	char *mem = filled(self, variant, page, MAP_SHARED);
	struct stat before;
	SAFE(fstat(self->fd, &before));
	backing_close(self);

	SAFE(unlink(self->path));
	memcpy(mem, message, sizeof message - 1);

	char line[512];
	maps_line(mem, line, sizeof line);
	hx_evidence("maps", "%s", line);
	cr_assert(strstr(line, " (deleted)"), "maps does not show the deleted file: %s", line);
	/* The mapping is still of that inode, not memory of its own. */
	unsigned long long ino = 0;
	sscanf(line, "%*s %*s %*s %*s %llu", &ino);
	hx_evidence("maps_inode_is_the_file", "%s", ino == (unsigned long long)before.st_ino ? "yes" : "no");
	cr_assert_eq(ino, (unsigned long long)before.st_ino, "maps shows inode %llu, the file was %llu", ino,
		     (unsigned long long)before.st_ino);
	/* The file itself, reached through the mapping (map_files names the
	 * mapped file, not a copy; it needs CAP_SYS_ADMIN): unlinked, and
	 * holding the store. */
	char link[128], got[sizeof message - 1];
	snprintf(link, sizeof link, "/proc/self/map_files/%lx-%lx", (unsigned long)(uintptr_t)mem,
		 (unsigned long)(uintptr_t)(mem + page));
	int fd = open(link, O_RDONLY | O_CLOEXEC);
	hx_evidence("map_files", "%s", fd >= 0 ? "open" : hx_errno_name(errno));
	if (fd < 0) {
		munmap(mem, page);
		return;
	}
	struct stat st;
	SAFE(fstat(fd, &st));
	ssize_t n = pread(fd, got, sizeof got, 0);
	close(fd);
	hx_evidence("file_links", "%ld", (long)st.st_nlink);
	cr_assert_eq(st.st_ino, before.st_ino, "map_files leads to inode %llu", (unsigned long long)st.st_ino);
	cr_assert_eq(st.st_nlink, 0, "the mapped file still has %ld links", (long)st.st_nlink);
	cr_assert(n == (ssize_t)sizeof got && memcmp(got, message, sizeof got) == 0,
		  "the file does not hold the store made through the mapping");
	munmap(mem, page);
}
