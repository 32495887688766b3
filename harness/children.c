/* Children: fork, spawn, wait, sweep, and "asleep in the kernel". */
#include "internal.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
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
/* Programs started by hx_spawn: not our children, so their outcome comes
 * from their launcher, over a pipe (what it knows, then the wait status). */
#define MAX_STRANGERS 16
struct launch {
	pid_t program;
	pid_t launcher_parent;	/* once reparented away from the middle child */
	pid_t session;		/* the launcher's own: its pid, its group */
};
static struct { pid_t pid; int fd; struct launch l; } strangers[MAX_STRANGERS];
static int nstrangers;

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
		nstrangers = 0;
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

/* The parent in /proc/PID/stat, or 0 when it cannot be read. */
pid_t hx_parent_of(pid_t pid)
{
	char path[64], buf[512];
	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ssize_t len = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (len <= 0)
		return 0;
	buf[len] = '\0';
	char *rp = strrchr(buf, ')'); /* comm may hold spaces and ')' */
	int ppid = 0;
	if (!rp || sscanf(rp + 2, "%*c %d", &ppid) != 1)
		return 0;
	return (pid_t)ppid;
}


/* The peer: only fds 0-2 and the kept ones survive its exec. */
_Noreturn static void exec_keeping(char *const argv[], const int *keep, int nkeep)
{
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
	dprintf(2, "ipcproof: exec %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

/* Double fork: a middle child makes a new session and forks the launcher,
 * then exits, so that the launcher is reparented away from the case (the
 * case is a subreaper: it stops being one for that moment).  The launcher
 * forks the program, keeps no descriptor but its report pipe, waits for
 * the program and reports.  The program is then no descendant of the
 * case, in another session, holding none of its descriptors but the kept
 * ones; the sweep still ends it through the middle child's process group,
 * which it stays in. */
pid_t hx_spawn(char *const argv[], const int *keep, int nkeep)
{
	int report[2];
	if (nstrangers >= MAX_STRANGERS)
		hx_broken("more than %d programs started", MAX_STRANGERS);
	if (pipe2(report, O_CLOEXEC) == -1)
		hx_broken("pipe2: %s", strerror(errno));
	prctl(PR_SET_CHILD_SUBREAPER, 0);
	pid_t middle = hx_fork();
	if (middle == 0) {
		pid_t me = getpid();
		pid_t launcher = fork();
		if (launcher == 0) {
			/* The middle child exits at once: its going is what
			 * makes this launcher nobody's descendant. */
			while (getppid() == me)
				sched_yield();
			/* A session of its own (the middle child leads a group,
			 * so it could not): the program's group too. */
			if (setsid() == -1)
				_exit(1);
			struct launch l = { .launcher_parent = getppid(), .session = getsid(0) };
			pid_t program = fork();
			if (program == 0)
				exec_keeping(argv, keep, nkeep);
			int limit = (int)sysconf(_SC_OPEN_MAX);
			for (int fd = 0; fd < limit && fd < 4096; fd++)
				if (fd != report[1] && fd > 2)
					close(fd);
			int status = 0;
			l.program = program;
			if (write(report[1], &l, sizeof l) != sizeof l)
				_exit(1);
			while (program > 0 && waitpid(program, &status, 0) == -1 && errno == EINTR)
				;
			_exit(write(report[1], &status, sizeof status) == sizeof status ? 0 : 1);
		}
		_exit(launcher > 0 ? 0 : HX_CHILD_FAILED);
	}
	close(report[1]);
	struct hx_outcome m = hx_wait(middle);
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	struct launch l = { .program = -1 };
	if (m.how != HX_EXITED || m.code != 0 ||
	    hx_read_all(report[0], &l, sizeof l) != sizeof l || l.program <= 0) {
		close(report[0]);
		hx_broken("starting %s detached: the middle child %s", argv[0], m.text);
	}
	strangers[nstrangers].pid = l.program;
	strangers[nstrangers].l = l;
	strangers[nstrangers++].fd = report[0];
	return l.program;
}

/* The stranger's outcome from its launcher's report: false while it runs
 * (WNOHANG) or when the report broke off. */
static bool stranger_outcome(int i, int *status, int flags)
{
	if (strangers[i].fd < 0)
		return false;
	struct pollfd pf = { strangers[i].fd, POLLIN, 0 };
	if ((flags & WNOHANG) && poll(&pf, 1, 0) <= 0)
		return false;
	bool got = hx_read_all(strangers[i].fd, status, sizeof *status) == sizeof *status;
	close(strangers[i].fd);
	strangers[i].fd = -1;
	if (!got)
		hx_broken("the launcher of program %d gave no outcome", (int)strangers[i].pid);
	return true;
}

bool hx_unrelated(pid_t pid)
{
	for (int i = 0; i < nstrangers; i++)
		if (strangers[i].pid == pid) {
			const struct launch *l = &strangers[i].l;
			bool apart = l->launcher_parent != getpid() && l->session != getsid(0);
			/* Nobody between the launcher and init is this process:
			 * the launcher's parent is no descendant of ours. */
			for (pid_t up = l->launcher_parent; apart && up > 1; up = hx_parent_of(up))
				apart = up != getpid();
			hx_evidence("stranger.launcher_parent", "%d", (int)l->launcher_parent);
			hx_evidence("stranger.same_session", "%s", l->session == getsid(0) ? "yes" : "no");
			hx_evidence("stranger.descendant", "%s", apart ? "no" : "yes");
			return apart;
		}
	return false;
}

void hx_end_strangers(void)
{
	for (int i = 0; i < nstrangers; i++)
		if (strangers[i].fd >= 0) {
			/* Still running (no outcome read): its launcher's
			 * session is its group, and the launcher waits for it,
			 * so the group is still there to kill. */
			kill(-strangers[i].l.session, SIGKILL);
			close(strangers[i].fd);
			strangers[i].fd = -1;
		}
	nstrangers = 0;
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
	for (int i = 0; i < nstrangers; i++)
		if (strangers[i].pid == pid) {
			bool ended = stranger_outcome(i, status, flags);
			if (ended && nreaped < HX_MAX_CHILDREN) {
				reaped[nreaped].pid = pid;
				reaped[nreaped++].status = *status;
			}
			return ended;
		}
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
	hx_end_strangers();
	for (int i = 0; i < nchildren; i++)
		kill(-children[i], SIGKILL);
	double until = hx_now() + 2.0 * hx_time_scale();
	long us = 20;
	for (;;) {
		/* No child left is no descendant left (the case is their
		 * subreaper): the common end, seen without reading /proc. */
		int status;
		pid_t r;
		while ((r = waitpid(-1, &status, WNOHANG)) > 0)
			;
		if (r == -1 && errno == ECHILD)
			return;
		pid_t found[256];
		int n = list_children_of(getpid(), found, 256);
		for (int i = 0; i < n; i++) {
			kill(-found[i], SIGKILL); /* its group, if it leads one */
			kill(found[i], SIGKILL);
		}
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

/* The number after "key" at a line's start in buf, or -1 without one
 * ("voluntary_..." is also the tail of "nonvoluntary_..."). */
static long line_number(const char *buf, const char *key)
{
	const char *at = strstr(buf, key);
	while (at && at != buf && at[-1] != '\n')
		at = strstr(at + 1, key);
	return at ? strtol(at + strlen(key), NULL, 10) : -1;
}

/* Voluntary plus involuntary context switches from /proc/<pid>/status, or
 * -1 where the kernel keeps no such count (gVisor). */
static long task_switches(const char *proc_dir)
{
	/* status is some 1.4 KB, more with many groups or CPUs */
	char path[128], buf[8192];
	snprintf(path, sizeof path, "%s/status", proc_dir);
	if (read_small(path, buf, sizeof buf) <= 0)
		return -1;
	long v = line_number(buf, "voluntary_ctxt_switches:");
	long n = line_number(buf, "nonvoluntary_ctxt_switches:");
	return v < 0 || n < 0 ? -1 : v + n;
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
	/* i386's multiplexers: a socket call through socketcall, a System V
	 * one through ipc. */
	static const char *const sockets[] = { "send", "sendto", "sendmsg", "recv", "recvfrom", "recvmsg",
					       "accept", "connect", NULL };
	static const char *const sysv[] = { "msgrcv", "msgsnd", "semop", "semtimedop", NULL };
	for (const char *const *c = sockets; *c; c++)
		if (strcmp(call, *c) == 0 && strcmp(name, "socketcall") == 0)
			return true;
	for (const char *const *c = sysv; *c; c++)
		if (strcmp(call, *c) == 0 && strcmp(name, "ipc") == 0)
			return true;
	for (size_t i = 0; i < sizeof aliases / sizeof aliases[0]; i++)
		if (strcmp(call, aliases[i][0]) == 0)
			for (int j = 1; j < 4 && aliases[i][j]; j++)
				if (strcmp(name, aliases[i][j]) == 0)
					return true;
	return false;
}

/* Whether /proc/PID/syscall numbers calls as this binary does.  Not under a
 * translation layer: qemu-user's tasks report the host's numbers (read is 0
 * on x86_64, not arm64's 63), so there the number proves nothing and only
 * the state is read.  A read of our own /proc/self/syscall names the read in
 * progress, in the numbering the kernel uses for us. */
static bool syscall_numbers_are_ours(void)
{
	static int ours = -1;
	if (ours < 0) {
		char buf[64] = "";
		int fd = open("/proc/self/syscall", O_RDONLY | O_CLOEXEC);
		ssize_t n = fd >= 0 ? read(fd, buf, sizeof buf - 1) : -1;
		if (fd >= 0)
			close(fd);
		ours = n > 0 && strtol(buf, NULL, 10) == SYS_read;
	}
	return ours;
}

/* IPCPROOF_BLOCKED_BY_STATE set: as on a kernel without /proc/PID/syscall
 * (the project's tests check that way of seeing a block on the host). */
static bool by_state_only(void)
{
	static int only = -1;
	if (only < 0)
		only = getenv("IPCPROOF_BLOCKED_BY_STATE") != NULL;
	return only;
}

struct hx_blocked hx_wait_blocked(pid_t pid, const char *call)
{
	struct hx_blocked b = { .method = "proc-syscall" };
	char dir[64];
	snprintf(dir, sizeof dir, "/proc/%d", (int)pid);
	double start = hx_now(), until = start + hx_bound_s();
	/* Without /proc/PID/syscall, a task asleep in every look for this
	 * long, its context switch count unchanged, is taken for blocked: long
	 * past a wake-up's latency on the kernel (the bound is scaled to its
	 * speed), and a task that wakes again and again (a retry loop, a
	 * timer) within it shows its switches, where the kernel counts them
	 * (gVisor does not: there the state alone is seen). */
	double settle = hx_bound_s() / 40, asleep_since = start;
	long us = 20, switches = -2, wakes = 0;
	int in_call = 0;
	hx_step("waiting for child %d to block in %s", (int)pid, call);
	for (;;) {
		if (hx_has_ended(pid)) {
			snprintf(b.seen, sizeof b.seen, "it ended instead");
			return b;
		}
		char state = task_state(dir);
		long nr = by_state_only() ? -2 : task_syscall(dir);
		if (nr >= 0 && !syscall_numbers_are_ours())
			nr = -2;
		if (nr == -2)
			b.method = state == '?' ? "no-progress" : "proc-stat";
		/* Two looks in a row, so a task passing through is not taken for
		 * one asleep there. */
		bool asleep = state == 'S' || state == 'D';
		bool here = nr >= 0 ? syscall_matches(call, nr) : nr == -2;
		long now_switches = nr == -2 ? task_switches(dir) : -1;
		/* asleep there, but it switched since the last look: it woke */
		bool switched = asleep && here && switches != -2 && now_switches != switches;
		wakes += switched;
		if (!(asleep && here) || switched) {
			asleep_since = hx_now();
			in_call = 0;
		}
		switches = now_switches;
		in_call = asleep && here ? in_call + 1 : 0;
		snprintf(b.seen, sizeof b.seen, "state %c, syscall %s", state,
			 nr >= 0 ? hx_syscall_name(nr) : nr == -1 ? "none" : "unknown");
		if (wakes)
			snprintf(b.seen + strlen(b.seen), sizeof b.seen - strlen(b.seen),
				 "; seen asleep and switching %ld times", wakes);
		if (in_call >= 2 && strcmp(b.method, "proc-syscall") == 0) {
			b.blocked = true;
			snprintf(b.syscall, sizeof b.syscall, "%s", hx_syscall_name(nr));
			task_wchan(dir, b.wchan, sizeof b.wchan);
			return b;
		}
		if (strcmp(b.method, "proc-stat") == 0 && in_call >= 2 && hx_now() - asleep_since >= settle) {
			b.blocked = true;
			snprintf(b.syscall, sizeof b.syscall, "%s?", call);
			/* the rule applied, not the time it took (which varies) */
			snprintf(b.settled, sizeof b.settled, "asleep %.3fs, %s", settle,
				 switches >= 0 ? "no context switch" : "no context switch count");
			return b;
		}
		/* Not even a state to read: not ending for a while (a tenth of
		 * the bound) is all that can be said. */
		if (strcmp(b.method, "no-progress") == 0 && hx_now() - start > hx_bound_s() / 10) {
			b.blocked = true;
			snprintf(b.syscall, sizeof b.syscall, "%s?", call);
			return b;
		}
		if (hx_now() > until)
			return b;
		backoff(&us);
	}
}
