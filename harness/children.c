/* Children: fork, spawn, wait, sweep, and "asleep in the kernel". */
#include "internal.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

static pid_t children[HX_MAX_CHILDREN];
static int nchildren;
/* Outcomes already reaped by hx_has_ended/hx_wait, so a second look still
 * knows them. */
static struct { pid_t pid; int status; } reaped[HX_MAX_CHILDREN];
static int nreaped;

void hx_track_child(pid_t pid)
{
	if (nchildren < HX_MAX_CHILDREN)
		children[nchildren++] = pid;
}

pid_t hx_fork(void)
{
	fflush(NULL);
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid == -1)
		hx_broken("fork: %s", strerror(errno));
	/* Both sides set the group, so neither depends on who runs first. */
	setpgid(pid == 0 ? 0 : pid, pid == 0 ? 0 : pid);
	if (pid == 0) {
		nchildren = 0;
		nreaped = 0;
		/* Should the case process die before its sweep (killed from
		 * outside), its children go with it instead of living on. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(HX_CHILD_FAILED);
	} else {
		hx_track_child(pid);
	}
	return pid;
}

pid_t hx_child_writes(int fd, int other_end, const void *buf, size_t n)
{
	pid_t pid = hx_fork();
	if (pid == 0) {
		close(other_end);
		CHILD_EXPECT(hx_write_all(fd, buf, n) == (ssize_t)n, "short write: %s",
			     hx_errno_name(errno));
		_exit(0);
	}
	close(fd);
	return pid;
}

const char *hx_bindir(void)
{
	static char dir[PATH_MAX];
	if (!dir[0]) {
		ssize_t n = readlink("/proc/self/exe", dir, sizeof dir - 1);
		if (n <= 0)
			hx_broken("readlink /proc/self/exe: %s", strerror(errno));
		dir[n] = '\0';
		char *slash = strrchr(dir, '/');
		if (slash)
			*slash = '\0';
	}
	return dir;
}

pid_t hx_spawn(char *const argv[], const int *keep, int nkeep)
{
	pid_t pid = hx_fork();
	if (pid)
		return pid;
	/* Only fds 0-2 and the kept ones survive the exec. */
	int limit = (int)sysconf(_SC_OPEN_MAX);
	for (int fd = 3; fd < limit && fd < 4096; fd++) {
		bool kept = false;
		for (int i = 0; i < nkeep; i++)
			kept |= keep[i] == fd;
		if (kept)
			fcntl(fd, F_SETFD, 0);
		else if (fcntl(fd, F_GETFD) != -1)
			fcntl(fd, F_SETFD, FD_CLOEXEC);
	}
	execv(argv[0], argv);
	hx_child_fail(__FILE__, __LINE__, "exec %s: %s", argv[0], strerror(errno));
}

int hx_capture(char *const argv[], char *out, size_t size)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) == -1)
		hx_broken("pipe2: %s", strerror(errno));
	pid_t pid = hx_fork();
	if (pid == 0) {
		dup2(p[1], STDOUT_FILENO);
		hx_close_nonstd_fds();
		execvp(argv[0], argv);
		hx_child_fail(__FILE__, __LINE__, "exec %s: %s", argv[0], strerror(errno));
	}
	close(p[1]);
	ssize_t n = hx_read_all(p[0], out, size - 1);
	close(p[0]);
	out[n > 0 ? n : 0] = '\0';
	struct hx_outcome o = hx_wait(pid);
	if (o.how == HX_RUNNING)
		return -1;
	return o.how == HX_EXITED ? o.code << 8 : o.code;
}

/* ---- outcomes ---------------------------------------------------------- */

static void describe_status(int status, struct hx_outcome *o)
{
	if (WIFEXITED(status)) {
		o->how = HX_EXITED;
		o->code = WEXITSTATUS(status);
		snprintf(o->text, sizeof o->text, "exited %d", o->code);
	} else {
		o->how = HX_SIGNALED;
		o->code = WTERMSIG(status);
		snprintf(o->text, sizeof o->text, "killed by %s", hx_signal_name(o->code));
	}
}

static bool known_outcome(pid_t pid, int *status)
{
	for (int i = 0; i < nreaped; i++)
		if (reaped[i].pid == pid) {
			*status = reaped[i].status;
			return true;
		}
	return false;
}

static bool reap(pid_t pid, int *status, int flags)
{
	if (known_outcome(pid, status))
		return true;
	pid_t r;
	do
		r = waitpid(pid, status, flags);
	while (r == -1 && errno == EINTR);
	if (r == pid && nreaped < HX_MAX_CHILDREN) {
		reaped[nreaped].pid = pid;
		reaped[nreaped++].status = *status;
	}
	if (r == -1)
		hx_broken("waitpid %d: %s", (int)pid, strerror(errno));
	return r == pid;
}

bool hx_has_ended(pid_t pid)
{
	int status;
	return reap(pid, &status, WNOHANG);
}

/* Polls with a backoff from 20 us to 2 ms: fast when things are quick,
 * cheap when they are not. */
static void backoff(long *us)
{
	struct timespec ts = { 0, *us * 1000 };
	nanosleep(&ts, NULL);
	if (*us < 2000)
		*us *= 2;
}

struct hx_outcome hx_wait(pid_t pid)
{
	struct hx_outcome o = { .how = HX_RUNNING };
	int status;
	double until = hx_now() + hx_bound_s();
	long us = 20;
	hx_step("waiting for child %d to end", (int)pid);
	while (!reap(pid, &status, WNOHANG)) {
		if (hx_now() > until) {
			char dir[64], where[200];
			snprintf(dir, sizeof dir, "/proc/%d", (int)pid);
			hx_describe_task(dir, where, sizeof where);
			snprintf(o.text, sizeof o.text, "still running after %.1fs, in %s",
				 hx_bound_s(), where);
			return o;
		}
		backoff(&us);
	}
	describe_status(status, &o);
	return o;
}

/* ---- the sweep ---------------------------------------------------------- */

/* Every process whose parent is `parent`, by reading /proc/<pid>/stat. */
static int list_children_of(pid_t parent, pid_t *out, int max)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	int n = 0;
	if (!d)
		return 0;
	while ((e = readdir(d)) && n < max) {
		char path[300], buf[512];
		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof path, "/proc/%s/stat", e->d_name);
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		ssize_t len = read(fd, buf, sizeof buf - 1);
		close(fd);
		if (len <= 0)
			continue;
		buf[len] = '\0';
		char *rp = strrchr(buf, ')'); /* comm may hold spaces and ')' */
		int ppid;
		if (rp && sscanf(rp + 2, "%*c %d", &ppid) == 1 && ppid == parent)
			out[n++] = (pid_t)atoi(e->d_name);
	}
	closedir(d);
	return n;
}

void hx_kill_descendants(void)
{
	for (int i = 0; i < nchildren; i++)
		kill(-children[i], SIGKILL);
	double until = hx_now() + 2.0 * hx_time_scale();
	long us = 20;
	for (;;) {
		pid_t found[256];
		int n = list_children_of(getpid(), found, 256);
		for (int i = 0; i < n; i++) {
			kill(-found[i], SIGKILL); /* its group, if it leads one */
			kill(found[i], SIGKILL);
		}
		int status;
		pid_t r;
		while ((r = waitpid(-1, &status, WNOHANG)) > 0)
			;
		if (r == -1 && errno == ECHILD)
			return;
		if (hx_now() > until) {
			hx_evidence("harness.error", "children still alive after SIGKILL");
			return;
		}
		backoff(&us);
	}
}

/* ---- blocked in the kernel --------------------------------------------- */

static ssize_t read_small(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, buf, size - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	if (n > 0 && buf[n - 1] == '\n')
		buf[n - 1] = '\0';
	return n;
}

/* state letter from stat, or '?' */
static char task_state(const char *proc_dir)
{
	char path[128], buf[512];
	snprintf(path, sizeof path, "%s/stat", proc_dir);
	if (read_small(path, buf, sizeof buf) <= 0)
		return '?';
	char *rp = strrchr(buf, ')');
	return rp && rp[1] == ' ' ? rp[2] : '?';
}

/* Syscall number from /proc/<pid>/syscall: -2 unreadable, -1 running or
 * not in a syscall. */
static long task_syscall(const char *proc_dir)
{
	char path[128], buf[256];
	snprintf(path, sizeof path, "%s/syscall", proc_dir);
	if (read_small(path, buf, sizeof buf) <= 0)
		return -2;
	if (buf[0] < '0' || buf[0] > '9')
		return -1;
	return strtol(buf, NULL, 10);
}

static void task_wchan(const char *proc_dir, char *buf, size_t size)
{
	char path[128];
	snprintf(path, sizeof path, "%s/wchan", proc_dir);
	if (read_small(path, buf, size) <= 0 || strcmp(buf, "0") == 0)
		buf[0] = '\0';
}

void hx_describe_task(const char *proc_dir, char *buf, size_t size)
{
	char wchan[64];
	long nr = task_syscall(proc_dir);
	char state = task_state(proc_dir);
	task_wchan(proc_dir, wchan, sizeof wchan);
	if (state == '?')
		snprintf(buf, size, "(gone)");
	else if (nr >= 0)
		snprintf(buf, size, "%s, state %c%s%s", hx_syscall_name(nr), state,
			 wchan[0] ? ", wchan " : "", wchan);
	else
		snprintf(buf, size, "state %c%s%s", state, wchan[0] ? ", wchan " : "", wchan);
}

/* A libc call may reach the kernel under several names. */
static bool syscall_matches(const char *call, long nr)
{
	const char *name = hx_syscall_name(nr);
	if (strcmp(call, name) == 0)
		return true;
	static const char *const aliases[][4] = {
		{ "open", "openat", "openat2" },
		{ "read", "readv", "pread64" },
		{ "write", "writev", "pwrite64" },
		{ "wait", "wait4", "waitid" },
		{ "sleep", "nanosleep", "clock_nanosleep" },
		{ "poll", "ppoll" },
		{ "send", "sendto", "sendmsg" },
		{ "recv", "recvfrom", "recvmsg" },
		{ "select", "pselect6" },
	};
	for (size_t i = 0; i < sizeof aliases / sizeof aliases[0]; i++)
		if (strcmp(call, aliases[i][0]) == 0)
			for (int j = 1; j < 4 && aliases[i][j]; j++)
				if (strcmp(name, aliases[i][j]) == 0)
					return true;
	return false;
}

struct hx_blocked hx_wait_blocked(pid_t pid, const char *call)
{
	struct hx_blocked b = { .method = "proc-syscall" };
	char dir[64];
	snprintf(dir, sizeof dir, "/proc/%d", (int)pid);
	double start = hx_now(), until = start + hx_bound_s();
	long us = 20;
	int in_call = 0;
	hx_step("waiting for child %d to block in %s", (int)pid, call);
	for (;;) {
		if (hx_has_ended(pid)) {
			snprintf(b.seen, sizeof b.seen, "it ended instead");
			return b;
		}
		char state = task_state(dir);
		long nr = task_syscall(dir);
		if (nr == -2)
			b.method = state == '?' ? "no-progress" : "proc-stat";
		/* Two looks in a row, so a task passing through is not taken for
		 * one asleep there. */
		bool asleep = state == 'S' || state == 'D';
		bool here = nr >= 0 ? syscall_matches(call, nr) : nr == -2;
		in_call = asleep && here ? in_call + 1 : 0;
		snprintf(b.seen, sizeof b.seen, "state %c, syscall %s", state,
			 nr >= 0 ? hx_syscall_name(nr) : nr == -1 ? "none" : "unknown");
		if (in_call >= 2 && strcmp(b.method, "proc-syscall") == 0) {
			b.blocked = true;
			snprintf(b.syscall, sizeof b.syscall, "%s", hx_syscall_name(nr));
			task_wchan(dir, b.wchan, sizeof b.wchan);
			return b;
		}
		/* Without /proc/PID/syscall: asleep and not ending for a while
		 * (a tenth of the bound) is all that can be said. */
		if (strcmp(b.method, "proc-syscall") != 0 &&
		    hx_now() - start > hx_bound_s() / 10 &&
		    (in_call >= 2 || strcmp(b.method, "no-progress") == 0)) {
			b.blocked = true;
			snprintf(b.syscall, sizeof b.syscall, "%s?", call);
			return b;
		}
		if (hx_now() > until)
			return b;
		backoff(&us);
	}
}
