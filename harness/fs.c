/* Filesystems: what kind a path is on, where a private directory of a
 * kind can go, and removing one. */
#include "internal.h"

#include <ftw.h>
#include <linux/magic.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/statfs.h>

#ifndef XFS_SUPER_MAGIC
#define XFS_SUPER_MAGIC 0x58465342
#endif
#ifndef F2FS_SUPER_MAGIC
#define F2FS_SUPER_MAGIC 0xF2F52010
#endif

static const struct { unsigned long magic; const char *name; bool disk; } filesystems[] = {
	{ TMPFS_MAGIC, "tmpfs", false }, { RAMFS_MAGIC, "ramfs", false },
	{ EXT4_SUPER_MAGIC, "ext4", true }, { XFS_SUPER_MAGIC, "xfs", true },
	{ BTRFS_SUPER_MAGIC, "btrfs", true }, { F2FS_SUPER_MAGIC, "f2fs", true },
	{ OVERLAYFS_SUPER_MAGIC, "overlay", false }, { V9FS_MAGIC, "9p", false },
	{ NFS_SUPER_MAGIC, "nfs", false }, { 0x00c0ffee, "hostfs", false },
};

/* The filesystem kind of path ("ext4", "tmpfs", "fs 0x..."), and whether it is
 * one that keeps files on a block device. */
const char *hx_fs_name(const char *path, bool *disk)
{
	static char unknown[32];
	struct statfs fs;
	*disk = false;
	if (statfs(path, &fs) != 0)
		return "missing";
	for (size_t i = 0; i < sizeof filesystems / sizeof filesystems[0]; i++)
		if ((unsigned long)fs.f_type == filesystems[i].magic) {
			*disk = filesystems[i].disk;
			return filesystems[i].name;
		}
	snprintf(unknown, sizeof unknown, "fs %#lx", (unsigned long)fs.f_type);
	return unknown;
}

static const char *env_dir(const char *name)
{
	const char *s = getenv(name);
	return s && *s ? s : NULL;
}

const char *hx_default_base(void)
{
	const char *base = env_dir("IPCPROOF_TMPDIR");
	if (!base)
		base = env_dir("TMPDIR");
	return base ? base : "/tmp";
}

/* The first candidate of the kind asked for; the reason otherwise. */
const char *hx_fs_base(enum hx_fs kind, char *why, size_t size)
{
	const char *tmpfs[] = { env_dir("IPCPROOF_TMPFS_DIR"), hx_default_base(), "/dev/shm" };
	const char *disk[] = { env_dir("IPCPROOF_DISK_DIR"), hx_default_base(), "/var/tmp" };
	const char **candidates = kind == HX_FS_TMPFS ? tmpfs : disk;
	size_t used = 0;
	if (kind == HX_FS_ANY)
		return hx_default_base();
	why[0] = '\0';
	for (int i = 0; i < 3; i++) {
		bool on_disk;
		if (!candidates[i])
			continue;
		const char *name = hx_fs_name(candidates[i], &on_disk);
		/* A sandbox may show the host's disk read-only. */
		bool writable = access(candidates[i], W_OK) == 0;
		if (writable && (kind == HX_FS_DISK ? on_disk : strcmp(name, "tmpfs") == 0)) {
			why[0] = '\0';
			return candidates[i];
		}
		used += (size_t)snprintf(why + used, used < size ? size - used : 0, "%s%s is %s%s",
					 used ? ", " : "", candidates[i], name,
					 writable ? "" : " (read-only)");
	}
	char tried[256];
	snprintf(tried, sizeof tried, "%s", why);
	if (kind == HX_FS_TMPFS)
		snprintf(why, size, "needs a tmpfs directory (%s; IPCPROOF_TMPFS_DIR names one)", tried);
	else
		snprintf(why, size, "needs a directory on a disk filesystem (%s; IPCPROOF_DISK_DIR "
			 "names one, such as an ext4 image on a loop device, which takes root)", tried);
	return NULL;
}

static int rm_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st; (void)ftw;
	return (type == FTW_DP ? rmdir(path) : unlink(path)) ? -1 : 0;
}

int hx_rm_tree(const char *path)
{
	return nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}
