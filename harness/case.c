/* The life of one case, the top layer: its needs and fixture, watchdog,
 * private directories, fd-leak check and end-of-case sweep. */
#include "internal.h"

#include <dirent.h>
#include <fcntl.h>
#include <math.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <time.h>


static struct {
	char name[256];
	char tmpdir[3][PATH_MAX];	/* by enum hx_fs */
	pid_t main_tid;
	unsigned char fds_at_start[FD_SCAN_MAX];
	atomic_bool done;
	double limit_s;
} hx;

/* By name: in the case process Criterion's copy of the test points to the
 * runner's record, at the runner's addresses. */
const struct hx_case *hx_find_case(const char *area, const char *name)
{
	extern const struct hx_case *__start_hx_cases[], *__stop_hx_cases[];
	for (const struct hx_case **c = __start_hx_cases; c < __stop_hx_cases; c++)
		if (strcmp((*c)->name, name) == 0 && strcmp((*c)->area, area) == 0)
			return *c;
	return NULL;
}

const struct hx_case *hx_current_case(void)
{
	static const struct hx_case *found;
	const struct criterion_test *t = criterion_current_test;
	if (!found && t)
		found = hx_find_case(t->category, t->name);
	return found;
}

/* The fixture's state, torn down at the end of the case even when an
 * expectation failed (Criterion then never returns to the body). */
static struct {
	const struct hx_case *c;
	void *self;
} fixture;

/* The case itself: its needs, its fixture's set-up, its body. */
static void case_main(void)
{
	const struct hx_case *c = hx_current_case();
	char why[512];
	if (!c)
		hx_broken("not a CASE");
	int unmet = hx_unmet_needs(c, why, sizeof why);
	if (unmet < 0)
		hx_broken("%s", why);
	if (unmet)
		cr_skip_test("%s", why);
	if (!c->fixture) {
		c->run();
		return;
	}
	fixture.self = calloc(1, c->fixture->size ? c->fixture->size : 1);
	if (!fixture.self)
		hx_broken("no memory for the fixture");
	c->fixture->setup(fixture.self, c->variant_data);
	fixture.c = c;
	c->run_fixture(fixture.self, c->variant_data);
}

void hx_case_jmp(void)
{
	criterion_internal_test_setup();
	criterion_internal_test_main(case_main);
	criterion_internal_test_teardown();
}

/* ---- temp directory ---------------------------------------------------- */

const char *const hx_tmpdir_keys[3] = {
	"harness.tmpdir", "harness.tmpdir.tmpfs", "harness.tmpdir.disk"
};

const char *hx_path_on(enum hx_fs fs, const char *name)
{
	static char paths[8][PATH_MAX];
	static unsigned next;
	char *dir = hx.tmpdir[fs];
	if (!dir[0]) {
		char why[512];
		const char *base = hx_fs_base(fs, why, sizeof why);
		if (!base)
			hx_broken("%s (undeclared need?)", why);
		snprintf(dir, PATH_MAX, "%s/ipcproof-%.40s-XXXXXX", base,
			 criterion_current_test ? criterion_current_test->name : "case");
		if (!mkdtemp(dir)) /* mkdtemp makes it 0700 */
			hx_broken("mkdtemp %s: %s", dir, strerror(errno));
		/* Recorded at once: the runner removes it if the case dies. */
		hx_evidence(hx_tmpdir_keys[fs], "%s", dir);
	}
	char *p = paths[next++ % 8];
	snprintf(p, PATH_MAX, "%s/%s", dir, name);
	return p;
}

const char *hx_path(const char *name)
{
	return hx_path_on(HX_FS_ANY, name);
}

static void remove_tmpdirs(bool report)
{
	for (int i = 0; i < 3; i++)
		if (hx.tmpdir[i][0] && hx_rm_tree(hx.tmpdir[i]) != 0 && report)
			hx_evidence("harness.error", "cannot remove %s: %s", hx.tmpdir[i],
				    strerror(errno));
}

/* ---- fd-leak check ----------------------------------------------------- */

/* The open descriptors below FD_SCAN_MAX, from /proc/self/fd: one
 * directory read where probing each number took a thousand system calls,
 * twice a case (under TCG emulation, milliseconds).  Probing remains for a
 * kernel without /proc. */
static void snapshot_fds(unsigned char *open_fds)
{
	memset(open_fds, 0, FD_SCAN_MAX);
	DIR *d = opendir("/proc/self/fd");
	if (d) {
		int own = dirfd(d);
		struct dirent *e;
		while ((e = readdir(d))) {
			char *end;
			long fd = strtol(e->d_name, &end, 10);
			if (*end == '\0' && end != e->d_name && fd >= 0 && fd < FD_SCAN_MAX && fd != own)
				open_fds[fd] = 1;
		}
		closedir(d);
		return;
	}
	int limit = hx_fd_scan_limit();
	for (int fd = 0; fd < limit; fd++)
		open_fds[fd] = fcntl(fd, F_GETFD) != -1;
}

static void report_fd_leaks(void)
{
	unsigned char now[FD_SCAN_MAX] = {0};
	char list[1024] = "";
	size_t used = 0;
	snapshot_fds(now);
	for (int fd = 0; fd < FD_SCAN_MAX; fd++) {
		if (!now[fd] || hx.fds_at_start[fd])
			continue;
		char link[64], target[256] = "?";
		snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
		ssize_t n = readlink(link, target, sizeof target - 1);
		target[n > 0 ? n : 1] = '\0';
		used += (size_t)snprintf(list + used, sizeof list - used, "%s%d (%s)",
					 used ? ", " : "", fd, target);
		if (used >= sizeof list)
			break;
	}
	if (list[0])
		hx_evidence("harness.fd_leak", "%s", list);
}

/* ---- watchdog ---------------------------------------------------------- */

static void *watchdog(void *arg)
{
	(void)arg;
	struct timespec deadline;
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	double whole;
	double frac = modf(hx.limit_s, &whole);
	deadline.tv_sec += (time_t)whole;
	deadline.tv_nsec += (long)(frac * 1e9);
	if (deadline.tv_nsec >= 1000000000L) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000L;
	}
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &deadline, NULL) == EINTR)
		;
	if (atomic_load(&hx.done))
		return NULL;

	char where[256], dir[64];
	snprintf(dir, sizeof dir, "/proc/self/task/%d", (int)hx.main_tid);
	hx_describe_task(dir, where, sizeof where);
	hx_evidence("harness.timeout", "%.1f", hx.limit_s);
	hx_evidence("harness.hung_in", "%s", where);
	hx_kill_descendants();
	remove_tmpdirs(false);
	_exit(124);
}

/* ---- init / fini ------------------------------------------------------- */

void hx_case_init(void)
{
	hx.main_tid = gettid();
	hx.limit_s = hx_case_limit_s();
	snprintf(hx.name, sizeof hx.name, "%s.%s",
		 criterion_current_suite ? criterion_current_suite->name : "?",
		 criterion_current_test ? criterion_current_test->name : "?");
	const char *dir = getenv("IPCPROOF_EVDIR");
	char path[PATH_MAX + 300];
	snprintf(path, sizeof path, "%s/%s.ev", dir ? dir : "", hx.name);
	hx_evidence_start(dir && *dir ? path : NULL);
	/* Orphaned grandchildren come back here, so the sweep finds them all. */
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	snapshot_fds(hx.fds_at_start);
	hx_checkpoints_share();
	/* The watchdog is born with every signal blocked, so a signal a case
	 * sends itself reaches the case's own thread. */
	pthread_t t;
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	int failed = pthread_create(&t, NULL, watchdog, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (failed)
		hx_broken("cannot start the watchdog thread");
	pthread_detach(t);
}

void hx_case_fini(void)
{
	if (hx_in_child())
		_exit(0); /* a child that escaped its IN_CHILD block */
	if (fixture.c)
		fixture.c->fixture->teardown(fixture.self, fixture.c->variant_data);
	hx_end_strangers();
	report_fd_leaks();
	hx_kill_descendants();
	remove_tmpdirs(true);
	hx_evidence("harness.end", "1");
	atomic_store(&hx.done, true);
}
