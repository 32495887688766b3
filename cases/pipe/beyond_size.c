/* F_SETPIPE_SZ (fcntl(2)) and /proc/sys/fs/pipe-max-size (pipe(7)). */
#include "ipcproof.h"

#include <fcntl.h>

CASE(pipe, setpipe_sz_rounds_0_and_1_up_to_a_page_and_refuses_negative_and_non_pipes,
     "pipe.setpipe-sz.rounds-small-sizes-up-to-a-page")
{
	int p[2];
	hx_pipe(p);
	int file = (int)SAFE(open(hx_path("f"), O_RDWR | O_CREAT, 0600));

	long zero = fcntl(p[1], F_SETPIPE_SZ, 0), one = fcntl(p[1], F_SETPIPE_SZ, 1);

	hx_evidence("set_0_1", "%ld,%ld", zero, one);
	cr_assert(zero == hx_page_size() && one == hx_page_size(), "F_SETPIPE_SZ 0 and 1 gave %ld and %ld", zero, one);
	EXPECT_FAILS_WITH(fcntl(p[1], F_SETPIPE_SZ, -1), EINVAL);
	hx_evidence("negative", "%s", hx_evidence_str("errno"));
	EXPECT_FAILS_WITH(fcntl(file, F_SETPIPE_SZ, 4096), EBADF);
	close(file);
	close(p[0]);
	close(p[1]);
}

static long read_long(const char *path)
{
	long v = -1;
	FILE *f = fopen(path, "r");
	if (!f || fscanf(f, "%ld", &v) != 1)
		hx_broken("cannot read %s", path);
	fclose(f);
	return v;
}

/* Whether CAP_SYS_RESOURCE (bit 24) is in this process's effective set:
 * being root is not enough (a container may drop it). */
static bool has_cap_sys_resource(void)
{
	char line[256];
	unsigned long long eff = 0;
	FILE *f = fopen("/proc/self/status", "r");
	if (!f)
		hx_broken("cannot read /proc/self/status");
	while (fgets(line, sizeof line, f))
		if (sscanf(line, "CapEff: %llx", &eff) == 1)
			break;
	fclose(f);
	return eff & (1ULL << 24);
}

/* Each caller tries pipe-max-size and the next size up; exit status
 * 0 when max is granted and max+1 goes as the capability says. */
static void try_sizes(long max, bool privileged)
{
	int p[2];
	CHILD_EXPECT(pipe(p) == 0, "pipe: %s", hx_errno_name(errno));
	long at_max = fcntl(p[1], F_SETPIPE_SZ, max);
	CHILD_EXPECT(at_max >= max, "F_SETPIPE_SZ(pipe-max-size %ld): %s", max, hx_errno_name(errno));
	long above = fcntl(p[1], F_SETPIPE_SZ, max + 1);
	int e = errno;
	hx_evidence(getuid() ? "above_max_unprivileged" : "above_max_here", "%s", above >= 0 ? "granted" : hx_errno_name(e));
	if (privileged)
		CHILD_EXPECT(above > max, "with CAP_SYS_RESOURCE: %s", hx_errno_name(e));
	else
		CHILD_EXPECT(above == -1 && e == EPERM, "without CAP_SYS_RESOURCE: %ld (%s)", above, hx_errno_name(e));
	close(p[0]);
	close(p[1]);
}

CASE(pipe, setpipe_sz_above_pipe_max_size_needs_cap_sys_resource_not_root, "pipe.setpipe-sz.above-max-needs-cap-sys-resource",
     NEEDS("root"))
{
	long max = read_long("/proc/sys/fs/pipe-max-size");
	bool cap = has_cap_sys_resource();
	hx_evidence("pipe_max_size", "%ld", max);
	hx_evidence("cap_sys_resource", "%d", cap);
	pid_t here, nobody;

	IN_CHILD(here) try_sizes(max, cap);
	IN_CHILD(nobody) {
		CHILD_EXPECT(setgid(65534) == 0 && setuid(65534) == 0, "dropping to 65534: %s", hx_errno_name(errno));
		try_sizes(max, false);
	}

	EXPECT_EXITS(here, 0);
	EXPECT_EXITS(nobody, 0);
}
