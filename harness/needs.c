/* What a case needs to run at all (NEEDS, a variant's needs). */
#include "internal.h"

#include <limits.h>
#include <sys/utsname.h>

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
