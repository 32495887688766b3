/* Chores of the mmap cases: a file with known bytes to map, what
 * /proc/self/maps says about an address, and the `backing` fixture: the
 * object a mapping is made of, one variant per kind. */
#ifndef MMAP_BACKING_H
#define MMAP_BACKING_H

#include "ipcproof.h"

#include <fcntl.h>
#include <sys/mman.h>

/* The byte every file made here starts with, so any change shows. */
#define BACKING_FILL '.'

/* hx_path(name), made with size bytes of BACKING_FILL (written, not a
 * hole), opened O_RDWR; the fd is the case's to close. */
static inline int backing_file(const char *name, size_t size)
{
	int fd = open(hx_path(name), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		hx_broken("open %s: %s", name, strerror(errno));
	char chunk[4096];
	memset(chunk, BACKING_FILL, sizeof chunk);
	for (size_t done = 0; done < size; done += sizeof chunk) {
		size_t n = size - done < sizeof chunk ? size - done : sizeof chunk;
		if (hx_write_all(fd, chunk, n) != (ssize_t)n)
			hx_broken("write %s: %s", name, strerror(errno));
	}
	return fd;
}

/* ---- the backing fixture ------------------------------------------------ */

/* What a mapping is made of.  The sharing, bounds and copy-on-write cases
 * run on every kind where they apply: a behaviour that holds on one kind
 * only shows up as that variant's result. */
enum backing_kind { BACKING_TMPFS, BACKING_DISK, BACKING_MEMFD, BACKING_ANON, BACKING_ZERO };

FIXTURE(backing) {
	int fd;			/* -1: anonymous, or closed by the case */
	char path[4096];	/* a name to open it again by ("" for none) */
};

FIXTURE_VARIANT(backing) {
	const char *needs;
	enum backing_kind kind;
	/* A file: it has bytes read(2) and write(2) see and an end of file
	 * (not so anonymous memory and /dev/zero, whose mappings start as
	 * zeros and are each their own object). */
	bool file;
	/* A file with a name in a directory (not a memfd). */
	bool named;
	/* Bytes written through a mapping past EOF, in EOF's page, become file
	 * content when the file grows: shmem (tmpfs, memfd) keeps them in the
	 * page; a disk filesystem (ext4 on 6.18) zeroes them on the way. */
	bool grows_over_past_eof_bytes;
};

/* A regular file on tmpfs (shmem: no block device, nothing to write back),
 * one on a disk filesystem (ext4 and the like: page cache over blocks), a
 * memfd (shmem without a name), MAP_ANONYMOUS, and /dev/zero (MAP_SHARED
 * of it is shmem too, MAP_PRIVATE plain anonymous memory). */
FIXTURE_VARIANT_ADD(backing, tmpfs) {
	.needs = "tmpfs", .kind = BACKING_TMPFS, .file = true, .named = true,
	.grows_over_past_eof_bytes = true,
};
FIXTURE_VARIANT_ADD(backing, disk) {
	.needs = "disk", .kind = BACKING_DISK, .file = true, .named = true,
};
FIXTURE_VARIANT_ADD(backing, memfd) {
	.kind = BACKING_MEMFD, .file = true, .grows_over_past_eof_bytes = true,
};
FIXTURE_VARIANT_ADD(backing, anon) { .kind = BACKING_ANON };
FIXTURE_VARIANT_ADD(backing, zero) { .needs = "/dev/zero", .kind = BACKING_ZERO };

/* Empty; a case gives a file its size with backing_fill. */
FIXTURE_SETUP(backing)
{
	self->fd = -1;
	if (variant->named) {
		const char *path = hx_path_on(variant->kind == BACKING_TMPFS ? HX_FS_TMPFS : HX_FS_DISK, "f");
		snprintf(self->path, sizeof self->path, "%s", path);
		self->fd = (int)SAFE(open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
		bool disk;
		hx_evidence("backing.fs", "%s", hx_fs_name(path, &disk));
	} else if (variant->kind == BACKING_MEMFD) {
		self->fd = (int)SAFE(memfd_create("backing", MFD_CLOEXEC));
		/* Its only name: good while the descriptor is open. */
		snprintf(self->path, sizeof self->path, "/proc/self/fd/%d", self->fd);
	} else if (variant->kind == BACKING_ZERO) {
		self->fd = (int)SAFE(open("/dev/zero", O_RDWR | O_CLOEXEC));
	}
}

FIXTURE_TEARDOWN(backing)
{
	(void)variant;
	if (self->fd >= 0)
		close(self->fd);
}

/* size bytes of BACKING_FILL, written (not a hole); nothing for memory
 * that is not a file. */
static inline void backing_fill(struct hx_fx_backing *self, const struct hx_fv_backing *variant,
				size_t size)
{
	char chunk[4096];
	if (!variant->file)
		return;
	memset(chunk, BACKING_FILL, sizeof chunk);
	for (size_t done = 0; done < size; done += sizeof chunk) {
		size_t n = size - done < sizeof chunk ? size - done : sizeof chunk;
		if (hx_write_all(self->fd, chunk, n) != (ssize_t)n)
			hx_broken("writing the backing: %s", strerror(errno));
	}
}

/* The mapping's first bytes before anyone writes them. */
static inline char backing_original(const struct hx_fv_backing *variant)
{
	return variant->file ? BACKING_FILL : '\0';
}

/* mmap of the backing from offset 0 (MAP_ANONYMOUS added where it is). */
static inline char *backing_map(struct hx_fx_backing *self, const struct hx_fv_backing *variant,
				size_t len, int prot, int flags)
{
	int anon = variant->kind == BACKING_ANON ? MAP_ANONYMOUS : 0;
	return (char *)SAFE(mmap(NULL, len, prot, flags | anon, anon ? -1 : self->fd, 0));
}

/* Another descriptor of the same file, by its name. */
static inline int backing_reopen(struct hx_fx_backing *self, int flags)
{
	return (int)SAFE(open(self->path, flags | O_CLOEXEC));
}

/* The case closes the backing's descriptor (the teardown then does not). */
static inline void backing_close(struct hx_fx_backing *self)
{
	SAFE(close(self->fd));
	self->fd = -1;
}

/* The /proc/self/maps line of the mapping holding addr, without its
 * newline, or "" when nothing is mapped there. */
static inline void maps_line(const void *addr, char *line, size_t size)
{
	FILE *maps = fopen("/proc/self/maps", "re");
	if (!maps)
		hx_broken("/proc/self/maps: %s", strerror(errno));
	line[0] = '\0';
	char buf[512];
	while (fgets(buf, sizeof buf, maps)) {
		unsigned long start, end;
		if (sscanf(buf, "%lx-%lx", &start, &end) == 2 &&
		    (unsigned long)addr >= start && (unsigned long)addr < end) {
			buf[strcspn(buf, "\n")] = '\0';
			snprintf(line, size, "%s", buf);
			break;
		}
	}
	fclose(maps);
}

#endif
