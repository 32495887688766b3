/* ipc-bench: what the notes' speed rankings rest on, measured.  For pipe,
 * FIFO, UNIX stream socket, signal and shared mmap between a parent and its
 * forked child it times
 *   - the round trip of an 8-byte message (parent -> child -> parent), and
 *   - a bulk transfer (BYTES in CHUNK pieces, parent -> child, ended by the
 *     child's acknowledgement; for signal: VALUES sigqueue values, acked
 *     every WINDOW, since a signal carries one union sigval and nothing more),
 * REPEAT times after one unrecorded warm-up run, and prints ONE JSON object:
 *   {"schema": "ipcproof/bench/1", "uname": {...}, "page_size": N,
 *    "params": {...}, "mechanisms": {"pipe": {"latency_ns": {median, min,
 *    max, samples}, "throughput_MBps": {...}, "what": {...}}, ...}}
 * A mechanism that fails is {"error": "..."} and the exit status is 1; bad
 * arguments exit 2.  Not a Criterion binary: a plain program, so the driver
 * can run it on any kernel the way it runs kernel-info.
 *   ipc-bench [--rounds N] [--bytes N] [--chunk N] [--values N]
 *             [--window N] [--repeat N] [--timeout S] [--only a,b]
 * Every wait is a blocking handoff (read, sigwaitinfo, sem_wait), never a
 * sleep; a child that dies or a mechanism that exceeds --timeout ends the
 * wait through SIGCHLD / SIGALRM handlers installed without SA_RESTART. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <semaphore.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MSG 8 /* the small message: one uint64_t, the size of a union sigval */

struct params {
	long rounds, bytes, chunk, values, window, repeat, timeout;
};

struct result {
	double *lat_ns, *mbps, *per_s; /* one sample per recorded run */
	char error[256];
};

static volatile sig_atomic_t child_gone, timed_out;
static volatile pid_t child;
/* The FIFO paths, global so that a fatal signal still removes them. */
static char fifo_dir[PATH_MAX - 16], fifo_to_child[PATH_MAX], fifo_to_parent[PATH_MAX];

static void on_chld(int sig)
{
	(void)sig;
	child_gone = 1;
}

static void on_alrm(int sig)
{
	(void)sig;
	timed_out = 1;
}

static void remove_fifos(void)
{
	if (fifo_to_child[0])
		unlink(fifo_to_child);
	if (fifo_to_parent[0])
		unlink(fifo_to_parent);
	if (fifo_dir[0])
		rmdir(fifo_dir);
	fifo_to_child[0] = fifo_to_parent[0] = fifo_dir[0] = '\0';
}

/* SIGTERM/SIGINT/SIGHUP: nothing of ours may outlive us. */
static void on_fatal(int sig)
{
	if (child > 0) {
		kill(child, SIGKILL);
		waitpid(child, NULL, 0);
	}
	remove_fifos();
	_exit(128 + sig);
}

static void handle(int sig, void (*fn)(int), int flags)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = fn;
	sa.sa_flags = flags; /* never SA_RESTART: the handlers exist to end waits */
	sigemptyset(&sa.sa_mask);
	sigaction(sig, &sa, NULL);
}

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void failf(struct result *res, const char *fmt, ...)
{
	if (res->error[0])
		return; /* the first failure is the cause; later ones follow from it */
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(res->error, sizeof res->error, fmt, ap);
	va_end(ap);
}

static const char *why_stopped(void)
{
	return timed_out ? "timed out" : child_gone ? "the child died" : strerror(errno);
}

/* ---- the child's side ------------------------------------------------ */

static pid_t start_child(void)
{
	pid_t parent = getpid();
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		for (int s = 1; s < NSIG; s++)
			if (s != SIGKILL && s != SIGSTOP)
				signal(s, SIG_DFL);
		/* an orphaned child would wait forever on its next handoff */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(1);
	} else if (pid > 0) {
		child = pid;
	}
	return pid;
}

/* 0 when the child exited 0; the child is reaped either way. */
static int finish_child(struct result *res, int kill_it)
{
	pid_t pid = child;
	int status = 0;
	if (pid <= 0)
		return 0;
	if (kill_it)
		kill(pid, SIGKILL);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	child = 0;
	child_gone = 0;
	if (!kill_it && !(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
		if (WIFSIGNALED(status))
			failf(res, "the child was killed by signal %d", WTERMSIG(status));
		else
			failf(res, "the child exited %d", WEXITSTATUS(status));
		return -1;
	}
	return 0;
}

/* ---- byte streams: pipe, FIFO, socket ---------------------------------- */

/* A dead peer closes its end, so a read never blocks for good: EINTR
 * (SIGCHLD) is retried and only the timeout ends the wait. */
static int read_full(int fd, void *buf, size_t len)
{
	size_t got = 0;
	while (got < len) {
		if (timed_out)
			return -1;
		ssize_t n = read(fd, (char *)buf + got, len - got);
		if (n > 0)
			got += (size_t)n;
		else if (n == 0)
			return errno = EPIPE, -1;
		else if (errno != EINTR || timed_out)
			return -1;
	}
	return 0;
}

static int write_full(int fd, const void *buf, size_t len)
{
	size_t put = 0;
	while (put < len) {
		if (timed_out)
			return -1;
		ssize_t n = write(fd, (const char *)buf + put, len - put);
		if (n > 0)
			put += (size_t)n;
		else if (n < 0 && (errno != EINTR || timed_out))
			return -1;
	}
	return 0;
}

static int stream_child(int rd, int wr, const struct params *p)
{
	char *buf = malloc((size_t)p->chunk);
	unsigned char msg[MSG];
	if (!buf)
		return 3;
	for (long r = 0; r <= p->repeat; r++) {
		for (long i = 0; i < p->rounds; i++)
			if (read_full(rd, msg, MSG) || write_full(wr, msg, MSG))
				return 4;
		for (long left = p->bytes; left > 0;) {
			ssize_t n = read(rd, buf, (size_t)(left < p->chunk ? left : p->chunk));
			if (n <= 0 && !(n < 0 && errno == EINTR))
				return 5;
			if (n > 0)
				left -= n;
		}
		if (write_full(wr, "k", 1))
			return 6;
	}
	return 0;
}

static void stream_parent(int rd, int wr, const struct params *p, struct result *res)
{
	char *buf = malloc((size_t)p->chunk);
	if (!buf) {
		failf(res, "out of memory");
		return;
	}
	memset(buf, 0x5a, (size_t)p->chunk); /* touched now, not inside the timing */
	for (long r = 0; r <= p->repeat; r++) {
		int64_t t0 = now_ns();
		for (long i = 0; i < p->rounds; i++) {
			uint64_t out = (uint64_t)r << 32 | (uint64_t)i, back = 0;
			if (write_full(wr, &out, MSG) || read_full(rd, &back, MSG)) {
				failf(res, "round trip: %s", why_stopped());
				goto out;
			}
			if (back != out) {
				failf(res, "round trip: sent %llu, got back %llu", (unsigned long long)out,
				      (unsigned long long)back);
				goto out;
			}
		}
		int64_t t1 = now_ns();
		for (long left = p->bytes; left > 0;) {
			long n = left < p->chunk ? left : p->chunk;
			if (write_full(wr, buf, (size_t)n)) {
				failf(res, "bulk write: %s", why_stopped());
				goto out;
			}
			left -= n;
		}
		char ack;
		if (read_full(rd, &ack, 1)) {
			failf(res, "bulk acknowledgement: %s", why_stopped());
			goto out;
		}
		int64_t t2 = now_ns();
		if (r > 0) {
			res->lat_ns[r - 1] = (double)(t1 - t0) / (double)p->rounds;
			res->mbps[r - 1] = (double)p->bytes * 1e3 / (double)(t2 - t1);
		}
	}
out:
	free(buf);
}

static void run_pipe(const struct params *p, struct result *res)
{
	int down[2], up[2];
	if (pipe(down) != 0) {
		failf(res, "pipe: %s", strerror(errno));
		return;
	}
	if (pipe(up) != 0) {
		failf(res, "pipe: %s", strerror(errno));
		close(down[0]);
		close(down[1]);
		return;
	}
	pid_t pid = start_child();
	if (pid == 0) {
		close(down[1]);
		close(up[0]);
		_exit(stream_child(down[0], up[1], p));
	}
	close(down[0]);
	close(up[1]);
	if (pid < 0)
		failf(res, "fork: %s", strerror(errno));
	else
		stream_parent(up[0], down[1], p, res);
	close(down[1]);
	close(up[0]);
	finish_child(res, res->error[0] != '\0');
}

static void run_socket(const struct params *p, struct result *res)
{
	int s[2];
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, s) != 0) {
		failf(res, "socketpair: %s", strerror(errno));
		return;
	}
	pid_t pid = start_child();
	if (pid == 0) {
		close(s[0]);
		_exit(stream_child(s[1], s[1], p));
	}
	close(s[1]);
	if (pid < 0)
		failf(res, "fork: %s", strerror(errno));
	else
		stream_parent(s[0], s[0], p, res);
	close(s[0]);
	finish_child(res, res->error[0] != '\0');
}

/* open() on a FIFO blocks until the other side opens too; if the child died
 * first it never will, and the SIGCHLD handler ends the wait. */
static int open_fifo(const char *path, int flags)
{
	for (;;) {
		int fd = open(path, flags);
		if (fd >= 0 || errno != EINTR || child_gone || timed_out)
			return fd;
	}
}

static void run_fifo(const struct params *p, struct result *res)
{
	const char *tmp = getenv("TMPDIR");
	snprintf(fifo_dir, sizeof fifo_dir, "%s/ipc-bench.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(fifo_dir)) { /* mkdtemp makes it 0700: nobody else opens our FIFOs */
		failf(res, "mkdtemp %s: %s", fifo_dir, strerror(errno));
		fifo_dir[0] = '\0';
		return;
	}
	snprintf(fifo_to_child, sizeof fifo_to_child, "%s/to-child", fifo_dir);
	snprintf(fifo_to_parent, sizeof fifo_to_parent, "%s/to-parent", fifo_dir);
	if (mkfifo(fifo_to_child, 0600) != 0 || mkfifo(fifo_to_parent, 0600) != 0) {
		failf(res, "mkfifo: %s", strerror(errno));
		remove_fifos();
		return;
	}
	pid_t pid = start_child();
	if (pid == 0) {
		/* same order as the parent's opens, so the rendezvous cannot deadlock */
		int rd = open(fifo_to_child, O_RDONLY);
		int wr = rd < 0 ? -1 : open(fifo_to_parent, O_WRONLY);
		_exit(wr < 0 ? 7 : stream_child(rd, wr, p));
	}
	if (pid < 0) {
		failf(res, "fork: %s", strerror(errno));
		remove_fifos();
		return;
	}
	int wr = open_fifo(fifo_to_child, O_WRONLY);
	int rd = wr < 0 ? -1 : open_fifo(fifo_to_parent, O_RDONLY);
	/* both sides hold both FIFOs open now: the names are no longer needed */
	remove_fifos();
	if (wr < 0 || rd < 0)
		failf(res, "open FIFO: %s", why_stopped());
	else
		stream_parent(rd, wr, p, res);
	if (wr >= 0)
		close(wr);
	if (rd >= 0)
		close(rd);
	finish_child(res, res->error[0] != '\0');
}

/* ---- signal ------------------------------------------------------------ */

/* The child's sigqueue precedes its exit, so after SIGCHLD a queued value
 * may still be pending: take it before calling the child dead. */
static int wait_signal(const sigset_t *set, siginfo_t *si)
{
	static const struct timespec now = {0, 0};
	for (;;) {
		if (timed_out) /* the alarm may fire between waits, not in one */
			return -1;
		if (sigwaitinfo(set, si) >= 0)
			return 0;
		if (errno != EINTR)
			return -1;
		if (sigtimedwait(set, si, &now) >= 0)
			return 0;
		if (child_gone || timed_out)
			return -1;
	}
}

static int signal_child(pid_t parent, int sig, const struct params *p)
{
	sigset_t set;
	siginfo_t si;
	sigemptyset(&set);
	sigaddset(&set, sig);
	for (long r = 0; r <= p->repeat; r++) {
		for (long i = 0; i < p->rounds; i++) {
			if (sigwaitinfo(&set, &si) < 0 || si.si_code != SI_QUEUE)
				return 3;
			if (sigqueue(parent, sig, si.si_value) != 0)
				return 4;
		}
		long seq = 0;
		for (long left = p->values; left > 0;) {
			long w = left < p->window ? left : p->window;
			for (long j = 0; j < w; j++, seq++)
				if (sigwaitinfo(&set, &si) < 0 || si.si_value.sival_ptr != (void *)(intptr_t)seq)
					return 5; /* real-time signals queue in order: a gap is an error */
			if (sigqueue(parent, sig, (union sigval){.sival_int = (int)w}) != 0)
				return 6;
			left -= w;
		}
	}
	return 0;
}

static void signal_parent(int sig, const struct params *p, struct result *res)
{
	sigset_t set;
	siginfo_t si;
	sigemptyset(&set);
	sigaddset(&set, sig);
	for (long r = 0; r <= p->repeat; r++) {
		int64_t t0 = now_ns();
		for (long i = 0; i < p->rounds; i++) {
			union sigval v = {.sival_ptr = (void *)(intptr_t)(r << 32 | i)};
			if (sigqueue(child, sig, v) != 0 || wait_signal(&set, &si) != 0) {
				failf(res, "round trip: %s", why_stopped());
				return;
			}
			if (si.si_value.sival_ptr != v.sival_ptr || si.si_pid != child) {
				failf(res, "round trip: a different value or sender came back");
				return;
			}
		}
		int64_t t1 = now_ns();
		long seq = 0;
		for (long left = p->values; left > 0;) {
			long w = left < p->window ? left : p->window;
			for (long j = 0; j < w; j++, seq++)
				if (sigqueue(child, sig, (union sigval){.sival_ptr = (void *)(intptr_t)seq}) != 0) {
					failf(res, "sigqueue: %s%s", strerror(errno),
					      errno == EAGAIN ? " (pending-signal limit reached: lower --window)" : "");
					return;
				}
			if (wait_signal(&set, &si) != 0) {
				failf(res, "window acknowledgement: %s", why_stopped());
				return;
			}
			left -= w;
		}
		int64_t t2 = now_ns();
		if (r > 0) {
			res->lat_ns[r - 1] = (double)(t1 - t0) / (double)p->rounds;
			res->per_s[r - 1] = (double)p->values * 1e9 / (double)(t2 - t1);
			res->mbps[r - 1] = res->per_s[r - 1] * (double)sizeof(union sigval) / 1e6;
		}
	}
}

static void run_signal(const struct params *p, struct result *res)
{
	int sig = SIGRTMIN; /* real-time: queued, in order, with a value */
	sigset_t set, old;
	sigemptyset(&set);
	sigaddset(&set, sig);
	/* blocked before fork, so the child can never miss an early value */
	sigprocmask(SIG_BLOCK, &set, &old);
	pid_t parent = getpid();
	pid_t pid = start_child();
	if (pid == 0)
		_exit(signal_child(parent, sig, p));
	if (pid < 0)
		failf(res, "fork: %s", strerror(errno));
	else
		signal_parent(sig, p, res);
	finish_child(res, res->error[0] != '\0');
	static const struct timespec now = {0, 0};
	siginfo_t si;
	while (sigtimedwait(&set, &si, &now) >= 0)
		; /* a run cut short may leave values queued: none may reach the default action */
	sigprocmask(SIG_SETMASK, &old, NULL);
}

/* ---- shared mmap ------------------------------------------------------- */

struct shared {
	sem_t go, back;              /* the round trip's two handoffs */
	sem_t full[2], empty[2];     /* two slots, so copy-in and copy-out overlap */
	long len[2];
	unsigned char msg[2][MSG];   /* [0] parent -> child, [1] child -> parent */
};

static size_t header_size(void)
{
	return (sizeof(struct shared) + 63) & ~(size_t)63;
}

/* A token posted just before the child exited must not be read as death
 * (glibc's sem_wait can return EINTR even with a token there). */
static int take(sem_t *s)
{
	for (;;) {
		if (timed_out)
			return -1;
		if (sem_wait(s) == 0)
			return 0;
		if (errno != EINTR)
			return -1;
		if (sem_trywait(s) == 0)
			return 0;
		if (child_gone || timed_out)
			return -1;
	}
}

static int mmap_child(struct shared *sh, unsigned char *slot[2], const struct params *p)
{
	unsigned char *mine = malloc((size_t)p->chunk), msg[MSG];
	if (!mine)
		return 3;
	for (long r = 0; r <= p->repeat; r++) {
		for (long i = 0; i < p->rounds; i++) {
			if (take(&sh->go))
				return 4;
			memcpy(msg, sh->msg[0], MSG);
			memcpy(sh->msg[1], msg, MSG);
			sem_post(&sh->back);
		}
		long k = 0;
		for (long left = p->bytes; left > 0; k++) {
			int s = (int)(k % 2);
			if (take(&sh->full[s]))
				return 5;
			long n = sh->len[s];
			memcpy(mine, slot[s], (size_t)n); /* what read() would give: a private copy */
			if (mine[0] != (unsigned char)k)
				return 6;
			sem_post(&sh->empty[s]);
			left -= n;
		}
	}
	return 0;
}

static void mmap_parent(struct shared *sh, unsigned char *slot[2], const struct params *p,
                        struct result *res)
{
	unsigned char *src = malloc((size_t)p->chunk);
	if (!src) {
		failf(res, "out of memory");
		return;
	}
	memset(src, 0x5a, (size_t)p->chunk);
	for (long r = 0; r <= p->repeat; r++) {
		int64_t t0 = now_ns();
		for (long i = 0; i < p->rounds; i++) {
			uint64_t out = (uint64_t)r << 32 | (uint64_t)i, back;
			memcpy(sh->msg[0], &out, MSG);
			sem_post(&sh->go);
			if (take(&sh->back)) {
				failf(res, "round trip: %s", why_stopped());
				goto out;
			}
			memcpy(&back, sh->msg[1], MSG);
			if (back != out) {
				failf(res, "round trip: sent %llu, got back %llu", (unsigned long long)out,
				      (unsigned long long)back);
				goto out;
			}
		}
		int64_t t1 = now_ns();
		long k = 0;
		for (long left = p->bytes; left > 0; k++) {
			int s = (int)(k % 2);
			long n = left < p->chunk ? left : p->chunk;
			if (take(&sh->empty[s])) {
				failf(res, "bulk: %s", why_stopped());
				goto out;
			}
			src[0] = (unsigned char)k; /* the child checks the chunks arrive in order */
			memcpy(slot[s], src, (size_t)n);
			sh->len[s] = n;
			sem_post(&sh->full[s]);
			left -= n;
		}
		/* both slots handed back: the child has copied out every byte */
		if (take(&sh->empty[0]) || take(&sh->empty[1])) {
			failf(res, "bulk end: %s", why_stopped());
			goto out;
		}
		int64_t t2 = now_ns();
		sem_post(&sh->empty[0]);
		sem_post(&sh->empty[1]);
		if (r > 0) {
			res->lat_ns[r - 1] = (double)(t1 - t0) / (double)p->rounds;
			res->mbps[r - 1] = (double)p->bytes * 1e3 / (double)(t2 - t1);
		}
	}
out:
	free(src);
}

static void run_mmap(const struct params *p, struct result *res)
{
	size_t size = header_size() + 2 * (size_t)p->chunk;
	void *area = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (area == MAP_FAILED) {
		failf(res, "mmap: %s", strerror(errno));
		return;
	}
	struct shared *sh = area;
	unsigned char *slot[2] = {(unsigned char *)area + header_size(),
	                          (unsigned char *)area + header_size() + p->chunk};
	int ok = sem_init(&sh->go, 1, 0) == 0 && sem_init(&sh->back, 1, 0) == 0;
	for (int s = 0; s < 2 && ok; s++)
		ok = sem_init(&sh->full[s], 1, 0) == 0 && sem_init(&sh->empty[s], 1, 1) == 0;
	if (!ok) {
		failf(res, "sem_init (process-shared): %s", strerror(errno));
		munmap(area, size);
		return;
	}
	memset(slot[0], 0, 2 * (size_t)p->chunk); /* faulted in now, not inside the timing */
	pid_t pid = start_child();
	if (pid == 0)
		_exit(mmap_child(sh, slot, p));
	if (pid < 0)
		failf(res, "fork: %s", strerror(errno));
	else
		mmap_parent(sh, slot, p, res);
	finish_child(res, res->error[0] != '\0');
	munmap(area, size);
}

/* ---- output ------------------------------------------------------------ */

static void put_string(const char *s)
{
	putchar('"');
	for (; *s; s++)
		if (*s == '"' || *s == '\\')
			printf("\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			printf("\\u%04x", (unsigned char)*s);
		else
			putchar(*s);
	putchar('"');
}

static int by_value(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static void put_stats(const char *key, const double *v, long n, int decimals)
{
	double *sorted = malloc((size_t)n * sizeof *sorted);
	if (!sorted)
		exit(1);
	memcpy(sorted, v, (size_t)n * sizeof *sorted);
	qsort(sorted, (size_t)n, sizeof *sorted, by_value);
	double median = n % 2 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
	printf("\"%s\": {\"median\": %.*f, \"min\": %.*f, \"max\": %.*f, \"samples\": [", key, decimals, median,
	       decimals, sorted[0], decimals, sorted[n - 1]);
	for (long i = 0; i < n; i++)
		printf("%s%.*f", i ? ", " : "", decimals, v[i]);
	printf("]}");
	free(sorted);
}

struct mechanism {
	const char *name;
	void (*run)(const struct params *, struct result *);
	const char *latency, *throughput;
};

static const struct mechanism mechanisms[] = {
	{"pipe", run_pipe, "8-byte write/read each way over two pipes",
	 "--bytes in --chunk writes down one pipe, until the child acknowledges the last byte"},
	{"fifo", run_fifo, "8-byte write/read each way over two FIFOs in a private 0700 directory",
	 "--bytes in --chunk writes down one FIFO, until the child acknowledges the last byte"},
	{"socket", run_socket, "8-byte write/read each way over one socketpair(AF_UNIX, SOCK_STREAM)",
	 "--bytes in --chunk writes down the socket, until the child acknowledges the last byte"},
	{"signal", run_signal, "sigqueue(SIGRTMIN) carrying an 8-byte union sigval, sigwaitinfo on the blocked signal, and back",
	 "--values sigqueue values (8-byte union sigval each), acknowledged every --window values; MB/s = values/s x 8 bytes"},
	{"mmap", run_mmap, "8 bytes written into a MAP_SHARED|MAP_ANONYMOUS area, handed over with a process-shared semaphore, and back",
	 "--bytes in --chunk pieces memcpy'd into two shared slots by the parent and out by the child, slots handed over with process-shared semaphores"},
};

#define NMECH (sizeof mechanisms / sizeof mechanisms[0])

static int usage(const char *why)
{
	fprintf(stderr, "ipc-bench: %s\nusage: ipc-bench [--rounds N] [--bytes N] [--chunk N] [--values N] "
	                "[--window N] [--repeat N] [--timeout S] [--only pipe,fifo,socket,signal,mmap]\n", why);
	return 2;
}

static int wanted(const char *only, const char *name)
{
	if (!only)
		return 1;
	size_t len = strlen(name);
	for (const char *s = only; *s;) {
		const char *end = strchr(s, ',');
		size_t n = end ? (size_t)(end - s) : strlen(s);
		if (n == len && strncmp(s, name, n) == 0)
			return 1;
		s += n + (end != NULL);
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct params p = {.rounds = 10000, .bytes = 64L << 20, .chunk = 64L << 10, .values = 100000,
	                   .window = 32, .repeat = 7, .timeout = 300};
	struct { const char *name; long *v; long max; } opts[] = {
		{"--rounds", &p.rounds, 1L << 40}, {"--bytes", &p.bytes, 1L << 40},
		{"--chunk", &p.chunk, 1L << 30}, {"--values", &p.values, 1L << 40},
		{"--window", &p.window, 1L << 20}, {"--repeat", &p.repeat, 10000},
		{"--timeout", &p.timeout, 86400},
	};
	const char *only = NULL;
	for (int i = 1; i < argc; i += 2) {
		if (i + 1 >= argc)
			return usage("every option takes a value");
		if (strcmp(argv[i], "--only") == 0) {
			only = argv[i + 1];
			continue;
		}
		size_t k = 0;
		while (k < sizeof opts / sizeof opts[0] && strcmp(argv[i], opts[k].name) != 0)
			k++;
		if (k == sizeof opts / sizeof opts[0])
			return usage("unknown option");
		char *end;
		errno = 0;
		long v = strtol(argv[i + 1], &end, 10);
		if (errno || *end || end == argv[i + 1] || v < 1 || v > opts[k].max)
			return usage("option values are positive integers");
		*opts[k].v = v;
	}
	if (only) {
		int any = 0;
		for (size_t m = 0; m < NMECH; m++)
			any |= wanted(only, mechanisms[m].name);
		if (!any)
			return usage("--only names no known mechanism");
	}

	handle(SIGCHLD, on_chld, SA_NOCLDSTOP);
	handle(SIGALRM, on_alrm, 0);
	handle(SIGTERM, on_fatal, 0);
	handle(SIGINT, on_fatal, 0);
	handle(SIGHUP, on_fatal, 0);
	signal(SIGPIPE, SIG_IGN); /* a dead reader is an EPIPE to report, not our death */

	struct utsname u;
	if (uname(&u) != 0)
		memset(&u, 0, sizeof u);
	printf("{\"schema\": \"ipcproof/bench/1\", \"uname\": {\"sysname\": ");
	put_string(u.sysname);
	printf(", \"release\": ");
	put_string(u.release);
	printf(", \"version\": ");
	put_string(u.version);
	printf(", \"machine\": ");
	put_string(u.machine);
	printf("}, \"page_size\": %ld, \"cpus\": %ld,\n \"params\": {\"rounds\": %ld, \"message_bytes\": %d, "
	       "\"bytes\": %ld, \"chunk\": %ld, \"values\": %ld, \"window\": %ld, \"repeat\": %ld, "
	       "\"warmup_runs\": 1, \"timeout_s\": %ld},\n"
	       " \"units\": {\"latency_ns\": \"nanoseconds per round trip (mean over ROUNDS round trips in one run)\", "
	       "\"throughput_MBps\": \"10^6 bytes per second\"},\n \"mechanisms\": {",
	       sysconf(_SC_PAGESIZE), sysconf(_SC_NPROCESSORS_ONLN), p.rounds, MSG, p.bytes, p.chunk, p.values,
	       p.window, p.repeat, p.timeout);
	int failed = 0, first = 1;
	for (size_t m = 0; m < NMECH; m++) {
		if (!wanted(only, mechanisms[m].name))
			continue;
		struct result res = {0};
		res.lat_ns = calloc((size_t)p.repeat, sizeof(double));
		res.mbps = calloc((size_t)p.repeat, sizeof(double));
		res.per_s = calloc((size_t)p.repeat, sizeof(double));
		if (!res.lat_ns || !res.mbps || !res.per_s)
			return 1;
		timed_out = 0;
		child_gone = 0;
		alarm((unsigned)p.timeout);
		mechanisms[m].run(&p, &res);
		alarm(0);
		printf("%s\n  ", first ? "" : ",");
		first = 0;
		put_string(mechanisms[m].name);
		printf(": {");
		if (res.error[0]) {
			failed = 1;
			printf("\"error\": ");
			put_string(res.error);
		} else {
			put_stats("latency_ns", res.lat_ns, p.repeat, 1);
			printf(", ");
			put_stats("throughput_MBps", res.mbps, p.repeat, 2);
			if (strcmp(mechanisms[m].name, "signal") == 0) {
				printf(", ");
				put_stats("values_per_s", res.per_s, p.repeat, 0);
			}
			printf(", \"what\": {\"latency\": ");
			put_string(mechanisms[m].latency);
			printf(", \"throughput\": ");
			put_string(mechanisms[m].throughput);
			printf("}");
		}
		printf("}");
		fflush(stdout);
		free(res.lat_ns);
		free(res.mbps);
		free(res.per_s);
	}
	printf("}}\n");
	return failed;
}
