/* What a case needs to run at all (NEEDS, a variant's needs), and where a
 * directory of a given filesystem kind can be had. */
#include "internal.h"

#include <limits.h>
#include <linux/magic.h>
#include <sys/statfs.h>
#include <sys/utsname.h>

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
		if (kind == HX_FS_DISK ? on_disk : strcmp(name, "tmpfs") == 0) {
			why[0] = '\0';
			return candidates[i];
		}
		used += (size_t)snprintf(why + used, used < size ? size - used : 0, "%s%s is %s",
					 used ? ", " : "", candidates[i], name);
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

static bool command_exists(const char *name)
{
	const char *path = getenv("PATH");
	char dirs[4096], file[PATH_MAX];
	snprintf(dirs, sizeof dirs, "%s:/usr/sbin:/sbin", path && *path ? path : "/usr/bin:/bin");
	for (char *save, *d = strtok_r(dirs, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
		snprintf(file, sizeof file, "%s/%s", d, name);
		if (access(file, X_OK) == 0)
			return true;
	}
	return false;
}

/* Why one need is unmet here ("" when it is met); -1 for a need that is
 * not one. */
static int unmet(const char *need, char *why, size_t size)
{
	why[0] = '\0';
	if (strcmp(need, "root") == 0) {
		if (geteuid() != 0)
			snprintf(why, size, "needs root (running as uid %d)", (int)geteuid());
	} else if (strncmp(need, "cmd:", 4) == 0) {
		if (!command_exists(need + 4))
			snprintf(why, size, "needs the command %s", need + 4);
	} else if (need[0] == '/') {
		if (access(need, F_OK) != 0)
			snprintf(why, size, "needs %s (%s)", need, hx_errno_name(errno));
	} else if (strncmp(need, "kernel:", 7) == 0) {
		struct utsname u;
		int want[2] = { 0, 0 }, have[2] = { 0, 0 };
		uname(&u);
		if (sscanf(need + 7, "%d.%d", &want[0], &want[1]) < 1) {
			snprintf(why, size, "bad need %s (kernel:MAJOR.MINOR)", need);
			return -1;
		}
		if (sscanf(u.release, "%d.%d", &have[0], &have[1]) >= 1 &&
			 (have[0] < want[0] || (have[0] == want[0] && have[1] < want[1])))
			snprintf(why, size, "needs kernel %d.%d or later (this is %s)", want[0],
				 want[1], u.release);
	} else if (strcmp(need, "tmpfs") == 0 || strcmp(need, "disk") == 0) {
		hx_fs_base(need[0] == 't' ? HX_FS_TMPFS : HX_FS_DISK, why, size);
	} else {
		snprintf(why, size, "unknown need %s", need);
		return -1;
	}
	return why[0] ? 1 : 0;
}

static int unmet_list(const char *list, char *why, size_t size)
{
	char copy[512];
	snprintf(copy, sizeof copy, "%s", list ? list : "");
	for (char *save, *n = strtok_r(copy, " ", &save); n; n = strtok_r(NULL, " ", &save)) {
		int r = unmet(n, why, size);
		if (r)
			return r;
	}
	return 0;
}

int hx_unmet_needs(const struct hx_case *c, char *why, size_t size)
{
	why[0] = '\0';
	int r = unmet_list(c->needs, why, size);
	return r ? r : c->variant_needs ? unmet_list(*c->variant_needs, why, size) : 0;
}
