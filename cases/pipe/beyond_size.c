/* F_SETPIPE_SZ (fcntl(2)) and /proc/sys/fs/pipe-max-size (pipe(7)). */
#include "ipcproof.h"
#include "../beyond_caps.h"

#include <fcntl.h>
#include <sys/resource.h>

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

/* F_SETPIPE_SZ to pipe-max-size, then to one byte more: the first must be
 * granted; the second's outcome is returned (0 granted, else the errno). */
static int above_max(long max)
{
	int p[2];
	CHILD_EXPECT(pipe(p) == 0, "pipe: %s", hx_errno_name(errno));
	long at_max = fcntl(p[1], F_SETPIPE_SZ, max);
	CHILD_EXPECT(at_max >= max, "F_SETPIPE_SZ(pipe-max-size %ld): %s", max, hx_errno_name(errno));
	long above = fcntl(p[1], F_SETPIPE_SZ, max + 1);
	int e = above >= 0 ? 0 : errno;
	close(p[0]);
	close(p[1]);
	return e;
}

CASE(pipe, setpipe_sz_above_pipe_max_size_is_eperm_without_cap_sys_resource_root_or_not,
     "pipe.setpipe-sz.above-max-needs-cap-sys-resource", NEEDS("root"))
{
	long max = read_long("/proc/sys/fs/pipe-max-size");
	hx_evidence("pipe_max_size", "%ld", max);
	pid_t root, nobody;

	IN_CHILD(root) {
		drop_effective_cap(CAP_SYS_RESOURCE);
		int e = above_max(max);
		hx_evidence("root_without_cap", "%s", e ? hx_errno_name(e) : "granted");
		CHILD_EXPECT(e == EPERM, "root without CAP_SYS_RESOURCE: %s", e ? hx_errno_name(e) : "granted");
	}
	IN_CHILD(nobody) {
		CHILD_EXPECT(setgid(65534) == 0 && setuid(65534) == 0, "dropping to 65534: %s", hx_errno_name(errno));
		int e = above_max(max);
		hx_evidence("uid_65534", "%s", e ? hx_errno_name(e) : "granted");
		CHILD_EXPECT(e == EPERM, "uid 65534: %s", e ? hx_errno_name(e) : "granted");
	}

	EXPECT_EXITS(root, 0);
	EXPECT_EXITS(nobody, 0);
}

CASE(pipe, setpipe_sz_above_pipe_max_size_succeeds_with_cap_sys_resource,
     "pipe.setpipe-sz.above-max-needs-cap-sys-resource", NEEDS("root"))
{
	if (!has_effective_cap(CAP_SYS_RESOURCE))
		cr_skip_test("needs CAP_SYS_RESOURCE in the effective set: this root lacks it");
	long max = read_long("/proc/sys/fs/pipe-max-size");
	pid_t child;

	IN_CHILD(child) {
		int e = above_max(max);
		hx_evidence("with_cap", "%s", e ? hx_errno_name(e) : "granted");
		CHILD_EXPECT(e == 0, "with CAP_SYS_RESOURCE: %s", hx_errno_name(e));
	}

	EXPECT_EXITS(child, 0);
}

/* uid 65534 here is a user with (normally) no pipes of its own; the count
 * at which pipes shrink is the soft limit divided by the default size,
 * less whatever that user holds elsewhere, so only the shrinking is
 * asserted, not where it starts. */
#define MANY_PIPES 1200
CASE(pipe, pipes_past_the_users_soft_page_limit_get_two_pages_and_cannot_grow,
     "pipe.user-pages.soft-limit-shrinks-new-pipes", NEEDS("root /proc/sys/fs/pipe-user-pages-soft"))
{
	long soft = read_long("/proc/sys/fs/pipe-user-pages-soft");
	if (soft <= 0 || soft / 16 >= MANY_PIPES)
		cr_skip_test("pipe-user-pages-soft is %ld: no limit within %d pipes", soft, MANY_PIPES);
	hx_evidence("soft_limit_pages", "%ld", soft);
	pid_t child;
	IN_CHILD(child) {
		struct rlimit lim = { 2 * MANY_PIPES + 64, 2 * MANY_PIPES + 64 };
		CHILD_EXPECT(setrlimit(RLIMIT_NOFILE, &lim) == 0, "setrlimit: %s", hx_errno_name(errno));
		CHILD_EXPECT(setgid(65534) == 0 && setuid(65534) == 0, "dropping to 65534: %s", hx_errno_name(errno));
		int p[2], first_small = -1;
		long small = 0;
		for (int i = 0; i < MANY_PIPES && first_small < 0; i++) {
			CHILD_EXPECT(pipe(p) == 0, "pipe #%d: %s", i, hx_errno_name(errno));
			long size = fcntl(p[1], F_GETPIPE_SZ);
			if (size < 16 * hx_page_size()) {
				first_small = i;
				small = size;
			}
		}
		CHILD_EXPECT(first_small > 0, "%d pipes of a user, none shrank", MANY_PIPES);
		long grow = fcntl(p[1], F_SETPIPE_SZ, 16 * hx_page_size());
		hx_evidence("small_pipe_bytes", "%ld", small);
		hx_evidence("grow_small_pipe", "%s", grow < 0 ? hx_errno_name(errno) : "granted");
		CHILD_EXPECT(small == 2 * hx_page_size(), "the pipe past the limit holds %ld bytes", small);
		CHILD_EXPECT(grow == -1 && errno == EPERM, "growing it: %ld (%s)", grow, hx_errno_name(errno));
	}
	EXPECT_EXITS(child, 0);
}
