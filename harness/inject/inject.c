/* ipcproof-inject: a "mutant kernel" for the cases, as an LD_PRELOAD library.
 *
 * IPCPROOF_FAULT=<name> makes exactly one behaviour misbehave; `./ipcproof
 * prove` runs the cases under each fault and checks that the cases of the
 * fault's claim go red while every other case keeps its status.  A harness
 * that misses a fault has a case that cannot fail the way the claim says.
 *
 * Narrowness is the whole point, so every fault is confined three ways:
 *   - by process: a fault is live only in the programs it names (the area
 *     binaries, or one peer program); anything they exec (cat, grep, bash,
 *     mkfifo) loads this library too but finds itself inert;
 *   - by caller: pipes and mappings count only when made by the case binary
 *     itself, never by Criterion or glibc, which have pipes and shared
 *     memory of their own;
 *   - by object: each fault checks the descriptor's kind (fstat, fstatfs,
 *     F_GETFL) and acts only where the faked behaviour would occur.
 * Pipes made with O_CLOEXEC are not the cases' subject but the harness's
 * plumbing (hx_capture reads a program's output through one), so they are
 * never tracked.
 *
 * Table-driven: each fault is one block below, its behaviour (the calls it
 * changes, as hooks) followed by its declaration (name, claims, scope,
 * what it does), registered by FAULT.  The wrapped calls at the end only
 * keep track of the case's pipes and mappings and hand over to the live
 * fault's hook; prove reads the declarations through
 * ipcproof_inject_faults().
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <link.h>
#include <linux/magic.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/msg.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

/* ---- the real functions -------------------------------------------------- */

#define REAL(name) \
	static __typeof__(&name) real_##name; \
	static __typeof__(&name) get_##name(void) \
	{ \
		if (!real_##name) \
			real_##name = (__typeof__(&name))dlsym(RTLD_NEXT, #name); \
		return real_##name; \
	}

REAL(pipe)
REAL(pipe2)
REAL(read)
REAL(write)
REAL(open)
REAL(close)
REAL(fstat)
REAL(stat)
REAL(lstat)
REAL(fcntl)
REAL(lseek)
REAL(mkfifo)
REAL(mmap)
REAL(munmap)
REAL(mprotect)
REAL(ftruncate)
REAL(truncate)
REAL(sigaction)
REAL(fpathconf)
REAL(dup2)
REAL(fork)
REAL(clone)
REAL(process_vm_readv)
REAL(process_vm_writev)
REAL(kill)
REAL(sigqueue)
REAL(sigtimedwait)
REAL(send)
REAL(recv)
REAL(msgsnd)
REAL(shm_open)

/* ---- a fault: its declaration and the calls it changes ------------------- */

enum scope { CASES, PEER_PIPE, PEER_FIFO, PEER_MMAP, PEER_IPC };

/* A hook's answer "not mine here: do the real call" (where -1 and
 * MAP_FAILED are real answers). */
#define GO_ON (-2)
#define MAP_GO_ON ((void *)-2)
#define UNUSED __attribute__((unused))

/* An mmap of a file descriptor, as the case asked for it. */
struct mmap_call {
	void *addr;
	size_t len;
	int prot, flags, fd;
	off_t off;
	const struct stat *st;
};

typedef ssize_t vm_call(pid_t, const struct iovec *, unsigned long, const struct iovec *,
			unsigned long, unsigned long);

struct fault {
	const char *name;
	const char *claims;	/* comma-separated claim ids it breaks */
	enum scope scope;
	const char *what;
	/* The calls it changes.  A hook in place of a call makes the real
	 * call itself where the fault does not apply; the others are told of
	 * a call's outcome and may change it. */
	/* The kind of descriptor a hook shared by several faults acts on. */
	bool (*kind)(int fd);
	void (*made_pipe)(int fds[2]);
	ssize_t (*read)(int fd, void *buf, size_t count);
	ssize_t (*write)(int fd, const void *buf, size_t count);
	long (*fpathconf)(int fd, int name);
	int (*dup2)(int oldfd, int newfd);	/* GO_ON: not mine */
	void (*fstat_seen)(int fd, struct stat *st);
	int (*fcntl_seen)(int fd, int cmd, void *arg, int r);
	int (*open)(const char *path, int flags, mode_t mode);
	int (*mkfifo)(const char *path, mode_t mode);
	void (*stat_seen)(const char *path, struct stat *st);
	off_t (*lseek)(int fd, off_t off, int whence);
	void (*mmap_args)(size_t *len, int *flags);
	void (*anon_mapped)(char *m, size_t len, int prot, int flags);
	void (*forking)(void);	/* in the case binary, before its fork() */
	void *(*mmap_fd_failed)(void *m);
	void (*mmap_file_args)(struct mmap_call *c);
	void *(*mmap_file)(const struct mmap_call *c);
	void (*file_mapped)(char *m, const struct mmap_call *c);
	int (*munmap)(void *addr, size_t *len);
	int (*mprotect_seen)(void *addr, size_t len, int prot, int r);
	void (*closing)(int fd);
	int (*ftruncate)(int fd, off_t length);
	int (*truncate)(const char *path, off_t length);
	int relayed_signal;	/* SIGBUS, SIGSEGV: reports rewritten by fault_report */
	void (*fault_report)(int sig, siginfo_t *si);
	int (*clone_flags)(int flags);
	vm_call *process_vm_readv, *process_vm_writev;
	int (*kill)(pid_t pid, int sig);
	int (*sigqueue)(pid_t pid, int sig, union sigval value);
	int (*sigtimedwait)(const sigset_t *set, siginfo_t *info, const struct timespec *timeout);
	ssize_t (*send)(int fd, const void *buf, size_t len, int flags);
	ssize_t (*recv)(int fd, void *buf, size_t len, int flags);
	int (*msgsnd)(int id, const void *msg, size_t size, int flags);
	int (*shm_open)(const char *name, int flags, mode_t mode);
};

#define FAULT(id, ...) \
	static const struct fault fault_##id = { __VA_ARGS__ }; \
	__attribute__((used, section("ipcproof_faults"))) \
	static const struct fault *const fault_##id##_entry = &fault_##id

/* ---- where the fault is live --------------------------------------------- */

static const struct fault *live;	/* the live fault here, or NULL */
static uintptr_t main_lo, main_hi;	/* the case binary's own code */
static long page;

#define CALLER ((uintptr_t)__builtin_return_address(0))
static bool from_main(uintptr_t caller)
{
	return caller >= main_lo && caller < main_hi;
}

/* The live fault's hook for a call, or NULL. */
#define HOOK(call) (live ? live->call : NULL)

/* ---- kinds of descriptor ------------------------------------------------- */

#define MAX_FD 4096
static unsigned char case_pipe[MAX_FD];	/* made by the case binary's pipe()/pipe2() */

static bool is_pipefs(int fd)
{
	struct statfs fs;
	return fstatfs(fd, &fs) == 0 && fs.f_type == PIPEFS_MAGIC;
}

/* A pipe the case made (checked again: the number may have been reused). */
static bool is_case_pipe(int fd)
{
	return fd >= 0 && fd < MAX_FD && case_pipe[fd] && is_pipefs(fd);
}

/* A named FIFO, opened by path (its inode is on a real filesystem). */
static bool is_named_fifo(int fd)
{
	struct stat st;
	return fd >= 0 && get_fstat()(fd, &st) == 0 && S_ISFIFO(st.st_mode) && !is_pipefs(fd);
}

static bool path_is_fifo(const char *path)
{
	struct stat st;
	return get_stat()(path, &st) == 0 && S_ISFIFO(st.st_mode);
}

static bool nonblocking(int fd)
{
	return get_fcntl()(fd, F_GETFL) & O_NONBLOCK;
}

static int access_mode(int fd)
{
	return get_fcntl()(fd, F_GETFL) & O_ACCMODE;
}

static int queued(int fd)
{
	int n = 0;
	return ioctl(fd, FIONREAD, &n) == 0 ? n : 0;
}

static void pause_briefly(long ns)
{
	struct timespec t = { 0, ns };
	nanosleep(&t, NULL);
}

static int socket_type(int fd)
{
	int type = -1;
	socklen_t len = sizeof type;
	return getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == 0 ? type : -1;
}

/* Waits in poll/nanosleep, never in the call itself, until fd is ready: the
 * outcome is right, only the process is not asleep in read or write. */
static void wait_in_user_space(int fd, short events)
{
	for (;;) {
		struct pollfd p = { fd, events, 0 };
		if (poll(&p, 1, 0) != 0)
			return;
		pause_briefly(1000000);
	}
}

/* A blocking write of 2 to PIPE_BUF bytes to a descriptor of the fault's
 * kind goes in two halves, a pause between. */
static ssize_t split_write(int fd, const void *buf, size_t count)
{
	if (count < 2 || count > PIPE_BUF || !live->kind(fd) || nonblocking(fd))
		return get_write()(fd, buf, count);
	size_t half = count / 2;
	ssize_t first = get_write()(fd, buf, half);
	if (first < (ssize_t)half)
		return first;
	sched_yield();
	pause_briefly(20000);
	ssize_t second = get_write()(fd, (const char *)buf + half, count - half);
	return second < 0 ? first : first + second;
}

static bool in_case_child;	/* forked by the case binary (hx_fork) */

/* ---- mappings the case made ---------------------------------------------- */

struct mapping {
	char *addr;
	size_t len;
	int fd;
	dev_t dev;
	ino_t ino;
	off_t off, size_at_mmap;
	int prot, flags;
	bool rdwr;	/* mapped through an O_RDWR fd */
	char path[256];	/* for re-opening a read-only fd's file read-write */
};
#define MAX_MAPPINGS 256
static struct mapping maps[MAX_MAPPINGS];

static void remember(char *addr, size_t len, int fd, off_t off, int prot, int flags,
		     const struct stat *st)
{
	for (int i = 0; i < MAX_MAPPINGS; i++) {
		struct mapping *m = &maps[i];
		if (m->addr && m->addr != addr)
			continue;
		*m = (struct mapping){ addr, len, fd, st->st_dev, st->st_ino, off, st->st_size, prot, flags,
				       access_mode(fd) == O_RDWR, "" };
		char link[64];
		snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
		ssize_t n = readlink(link, m->path, sizeof m->path - 1);
		m->path[n > 0 ? n : 0] = '\0';
		return;
	}
}

static void forget(const char *addr, size_t len)
{
	for (int i = 0; i < MAX_MAPPINGS; i++)
		if (maps[i].addr && maps[i].addr >= addr && maps[i].addr < addr + len)
			maps[i].addr = NULL;
}

static struct mapping *mapping_at(const void *p)
{
	for (int i = 0; i < MAX_MAPPINGS; i++)
		if (maps[i].addr && (const char *)p >= maps[i].addr &&
		    (const char *)p < maps[i].addr + maps[i].len)
			return &maps[i];
	return NULL;
}

static size_t round_up(size_t n)
{
	return (n + (size_t)page - 1) / (size_t)page * (size_t)page;
}

static int reopen_read_write(int fd)
{
	char link[64];
	snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
	return get_open()(link, O_RDWR | O_CLOEXEC);
}

/* ==== the faults ============================================================ */

/* ---- pipes ---------------------------------------------------------------- */

static void fstat_says_regular(int fd, struct stat *st)
{
	if (is_case_pipe(fd))
		st->st_mode = (st->st_mode & ~(mode_t)S_IFMT) | S_IFREG;
}
FAULT(pipe_not_a_fifo, "pipe-not-a-fifo", "pipe.nature.pseudo-file", CASES,
      "fstat of a pipe end reports a regular file, not S_IFIFO",
      .fstat_seen = fstat_says_regular);

static int getfl_says_rdwr(int fd, int cmd, void *arg, int r)
{
	(void)arg;
	return cmd == F_GETFL && r != -1 && is_case_pipe(fd) ? (r & ~O_ACCMODE) | O_RDWR : r;
}
FAULT(pipe_ends_read_write, "pipe-ends-read-write", "pipe.create.two-descriptors", CASES,
      "F_GETFL reports both pipe ends open O_RDWR",
      .fcntl_seen = getfl_says_rdwr);

static void pipe_fds_from_20(int fds[2])
{
	for (int i = 0; i < 2; i++) {
		int moved = get_fcntl()(fds[i], F_DUPFD, 20);
		if (moved >= 0) {
			get_close()(fds[i]);
			fds[i] = moved;
		}
	}
}
FAULT(pipe_fds_not_lowest, "pipe-fds-not-lowest", "pipe.create.fds-3-and-4", CASES,
      "pipe() hands out descriptors from 20 up instead of the lowest free ones",
      .made_pipe = pipe_fds_from_20);

static int refuse_fifo_through_proc(const char *path, int flags, mode_t mode)
{
	if (strncmp(path, "/proc/", 6) == 0 && path_is_fifo(path)) {
		errno = EACCES;
		return -1;
	}
	return get_open()(path, flags, mode);
}
FAULT(pipe_proc_fd_refused, "pipe-proc-fd-refused", "pipe.users.related-only", PEER_PIPE,
      "an unrelated program cannot open a pipe through /proc/PID/fd/N (EACCES)",
      .open = refuse_fifo_through_proc);

/* The parent in /proc/PID/stat, 0 if unreadable. */
static pid_t parent_of(pid_t pid)
{
	char path[64], buf[512];
	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	int fd = get_open()(path, O_RDONLY | O_CLOEXEC, 0);
	if (fd < 0)
		return 0;
	ssize_t n = get_read()(fd, buf, sizeof buf - 1);
	get_close()(fd);
	buf[n > 0 ? n : 0] = '\0';
	char *rp = strrchr(buf, ')');
	int ppid = 0;
	return rp && sscanf(rp + 2, "%*c %d", &ppid) == 1 ? (pid_t)ppid : 0;
}

/* A Yama-like rule keyed on kinship: another process's descriptors only
 * for its descendants.  An "unrelated" program that is in fact the
 * case's child passes; a truly unrelated one is refused. */
static int proc_fd_for_descendants_only(const char *path, int flags, mode_t mode)
{
	int owner;
	if (sscanf(path, "/proc/%d/fd/", &owner) == 1 && path_is_fifo(path)) {
		bool descendant = false;
		for (pid_t up = getppid(); up > 1 && !descendant; up = parent_of(up))
			descendant = up == owner;
		if (!descendant) {
			errno = EACCES;
			return -1;
		}
	}
	return get_open()(path, flags, mode);
}
FAULT(pipe_proc_fd_kin_only, "pipe-proc-fd-kin-only", "pipe.users.related-only", PEER_PIPE,
      "a process's pipe can be opened through /proc/PID/fd only by its descendants",
      .open = proc_fd_for_descendants_only);

static ssize_t write_read_end_succeeds(int fd, const void *buf, size_t count)
{
	ssize_t n = get_write()(fd, buf, count);
	if (n == -1 && errno == EBADF && is_case_pipe(fd))
		return (ssize_t)count;
	return n;
}
FAULT(pipe_two_way, "pipe-two-way", "pipe.direction.half-duplex", CASES,
      "writing the read end of a pipe succeeds instead of failing with EBADF",
      .write = write_read_end_succeeds);

static int closed_fds_seem_open_in_child(int fd, int cmd, void *arg, int r)
{
	(void)fd;
	(void)arg;
	return cmd == F_GETFD && r == -1 && errno == EBADF && in_case_child ? 0 : r;
}
FAULT(pipe_shared_after_fork, "pipe-shared-after-fork", "pipe.flow.create-then-fork", CASES,
      "a forked child finds every descriptor number open (F_GETFD), so a pipe made after fork seems shared",
      .fcntl_seen = closed_fds_seem_open_in_child);

static ssize_t read_waits_for_full_count(int fd, void *buf, size_t count)
{
	if (!is_case_pipe(fd) || nonblocking(fd))
		return get_read()(fd, buf, count);
	size_t done = 0;
	while (done < count) {
		ssize_t n = get_read()(fd, (char *)buf + done, count - done);
		if (n <= 0)
			return done ? (ssize_t)done : n;
		done += (size_t)n;
	}
	return (ssize_t)done;
}
FAULT(pipe_read_waits_for_full_count, "pipe-read-waits-for-full-count", "pipe.read.data-present", CASES,
      "a blocking pipe read waits until the whole count is there (or end of file)",
      .read = read_waits_for_full_count);

/* End of file read as EAGAIN on a non-blocking descriptor of the fault's
 * kind. */
static ssize_t eof_is_eagain(int fd, void *buf, size_t count)
{
	ssize_t n = get_read()(fd, buf, count);
	if (n == 0 && count > 0 && live->kind(fd) && nonblocking(fd)) {
		errno = EAGAIN;
		return -1;
	}
	return n;
}
FAULT(pipe_nonblock_eof_is_eagain, "pipe-nonblock-eof-is-eagain", "pipe.read.eof-after-writers-close", CASES,
      "a non-blocking pipe read at end of file fails with EAGAIN instead of returning 0",
      .read = eof_is_eagain, .kind = is_case_pipe);

static ssize_t read_polls(int fd, void *buf, size_t count)
{
	if (is_case_pipe(fd) && !nonblocking(fd) && access_mode(fd) == O_RDONLY)
		wait_in_user_space(fd, POLLIN);
	return get_read()(fd, buf, count);
}
FAULT(pipe_read_polls, "pipe-read-polls", "pipe.read.blocks-while-writer-open,pipe.close.last-writer-wakes-every-blocked-reader,pipe.io.zero-length-transfers,pipe.signals.eintr-without-sa-restart,pipe.signals.sa-restart-resumes-the-read", CASES,
      "a blocking read of an empty pipe polls in user space instead of sleeping in read",
      .read = read_polls);

/* EPIPE as usual, but the SIGPIPE the write raised is taken back. */
static ssize_t write_without_sigpipe(int fd, const void *buf, size_t count)
{
	if (!is_case_pipe(fd))
		return get_write()(fd, buf, count);
	sigset_t block, old, pending;
	sigemptyset(&block);
	sigaddset(&block, SIGPIPE);
	sigprocmask(SIG_BLOCK, &block, &old);
	sigpending(&pending);
	bool was_pending = sigismember(&pending, SIGPIPE);
	ssize_t n = get_write()(fd, buf, count);
	int err = errno;
	if (n == -1 && err == EPIPE && !was_pending) {
		struct timespec none = { 0, 0 };
		get_sigtimedwait()(&block, NULL, &none);
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	errno = err;
	return n;
}
FAULT(pipe_epipe_without_sigpipe, "pipe-epipe-without-sigpipe", "pipe.write.no-readers-sigpipe", CASES,
      "a write to a reader-less pipe fails with EPIPE without raising SIGPIPE",
      .write = write_without_sigpipe);

static ssize_t write_polls(int fd, const void *buf, size_t count)
{
	if (is_case_pipe(fd) && !nonblocking(fd) && access_mode(fd) == O_WRONLY)
		wait_in_user_space(fd, POLLOUT);
	return get_write()(fd, buf, count);
}
FAULT(pipe_write_polls, "pipe-write-polls", "pipe.write.full-blocks", CASES,
      "a blocking write to a full pipe polls in user space instead of sleeping in write",
      .write = write_polls);

static ssize_t write_half(int fd, const void *buf, size_t count)
{
	if (count > 1 && count < PIPE_BUF && is_case_pipe(fd) && !nonblocking(fd))
		return get_write()(fd, buf, count / 2);
	return get_write()(fd, buf, count);
}
FAULT(pipe_short_writes, "pipe-short-writes", "pipe.write.room-continues,pipe.capacity.ulimit-is-pipe-buf", CASES,
      "a blocking pipe write of 2 to PIPE_BUF-1 bytes queues only half of them",
      .write = write_half);

static void pipe_of_2_pages(int fds[2])
{
	get_fcntl()(fds[1], F_SETPIPE_SZ, (int)(2 * page));
}
FAULT(pipe_holds_2_pages, "pipe-holds-2-pages", "pipe.capacity.default-65536,pipe.packet.large-writes-split-at-pipe-buf,pipe.user-pages.soft-limit-shrinks-new-pipes", CASES,
      "new pipes hold 2 pages (F_GETPIPE_SZ and a fill both say 8192)",
      .made_pipe = pipe_of_2_pages);

static long pipe_buf_is_capacity(int fd, int name)
{
	if (name == _PC_PIPE_BUF && is_case_pipe(fd))
		return 16 * page;
	return get_fpathconf()(fd, name);
}
FAULT(pipe_buf_is_capacity, "pipe-buf-is-capacity", "pipe.capacity.ulimit-is-pipe-buf", CASES,
      "fpathconf(_PC_PIPE_BUF) of a pipe reports the capacity, 65536",
      .fpathconf = pipe_buf_is_capacity);

/* Only writes smaller than PIPE_BUF: a case whose records are all
 * exactly PIPE_BUF bytes never sees it. */
static ssize_t split_small_write(int fd, const void *buf, size_t count)
{
	return count < PIPE_BUF ? split_write(fd, buf, count) : get_write()(fd, buf, count);
}
FAULT(pipe_small_writes_split, "pipe-small-writes-split", "pipe.capacity.ulimit-is-pipe-buf,pipe.pipe2.direct-is-packet-mode", CASES,
      "pipe writes of 2 to PIPE_BUF-1 bytes go in two halves (a PIPE_BUF write stays whole)",
      .write = split_small_write, .kind = is_case_pipe);

FAULT(pipe_writes_not_atomic, "pipe-writes-not-atomic", "pipe.capacity.ulimit-is-pipe-buf", CASES,
      "pipe writes of at most PIPE_BUF bytes go in two halves, so writers interleave",
      .write = split_write, .kind = is_case_pipe);

static int setsz_as_asked(int fd, int cmd, void *arg, int r)
{
	return cmd == F_SETPIPE_SZ && r != -1 && is_case_pipe(fd) ? (int)(intptr_t)arg : r;
}
FAULT(pipe_setsz_not_rounded, "pipe-setsz-not-rounded", "pipe.capacity.adjustable", CASES,
      "F_SETPIPE_SZ returns the size asked for, not the power-of-two pages it set",
      .fcntl_seen = setsz_as_asked);

static int dup2_onto_std_ignored(int oldfd, int newfd)
{
	return newfd >= 0 && newfd <= 2 && is_case_pipe(oldfd) ? newfd : GO_ON;
}
FAULT(pipe_dup2_ignored, "pipe-dup2-ignored", "pipe.exercise.ps-aux-grep-bash", CASES,
      "dup2 of a pipe end onto 0, 1 or 2 returns success and does nothing",
      .dup2 = dup2_onto_std_ignored);

/* ---- named FIFOs ---------------------------------------------------------- */

/* Large reads only: the other FIFO cases read in pieces of at most 1000
 * bytes and check what a reader gets, not the stream's order. */
static ssize_t fifo_read_swapped(int fd, void *buf, size_t count)
{
	ssize_t n = get_read()(fd, buf, count);
	if (n > 1024 && is_named_fifo(fd)) {
		char word[4];
		memcpy(word, buf, 4);
		memmove(buf, (char *)buf + 4, 4);
		memcpy((char *)buf + 4, word, 4);
	}
	return n;
}
FAULT(fifo_reorders_bytes, "fifo-reorders-bytes", "fifo.order.first-in-first-out", CASES,
      "a FIFO read of more than 1024 bytes returns its first two 4-byte words swapped",
      .read = fifo_read_swapped);

static int mkfifo_replaces(const char *path, mode_t mode)
{
	int r = get_mkfifo()(path, mode);
	if (r == -1 && errno == EEXIST && unlink(path) == 0)
		return get_mkfifo()(path, mode);
	return r;
}
FAULT(fifo_mkfifo_replaces, "fifo-mkfifo-replaces", "fifo.create.mkfifo", CASES,
      "mkfifo on an existing path replaces it instead of failing with EEXIST",
      .mkfifo = mkfifo_replaces);

static void size_is_queued(const char *path, struct stat *st)
{
	if (!S_ISFIFO(st->st_mode))
		return;
	int fd = get_open()(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return;
	st->st_size = queued(fd);
	get_close()(fd);
}
FAULT(fifo_stat_counts_queued, "fifo-stat-counts-queued", "fifo.mechanism.file-names-a-kernel-buffer", CASES,
      "stat of a FIFO reports the bytes queued in it as st_size",
      .stat_seen = size_is_queued);

FAULT(fifo_nonblock_eof_is_eagain, "fifo-nonblock-eof-is-eagain", "fifo.open.read-side,pipe.read.eof-after-writers-close", CASES,
      "a non-blocking FIFO read with no writer fails with EAGAIN instead of returning 0",
      .read = eof_is_eagain, .kind = is_named_fifo);

static off_t fifo_lseek_succeeds(int fd, off_t off, int whence)
{
	if (is_named_fifo(fd))
		return 0;
	return get_lseek()(fd, off, whence);
}
FAULT(fifo_lseek_succeeds, "fifo-lseek-succeeds", "fifo.io.pipe-semantics", CASES,
      "lseek on a FIFO descriptor returns 0 instead of failing with ESPIPE",
      .lseek = fifo_lseek_succeeds);

static int getpipe_sz_is_default(int fd, int cmd, void *arg, int r)
{
	(void)arg;
	return cmd == F_GETPIPE_SZ && r != -1 && is_named_fifo(fd) ? (int)(16 * page) : r;
}
FAULT(fifo_size_per_open, "fifo-size-per-open", "fifo.shared.one-buffer-while-open", CASES,
      "F_GETPIPE_SZ through a FIFO open reports the default size, whatever another open set",
      .fcntl_seen = getpipe_sz_is_default);

static int refuse_fifo_paths(const char *path, int flags, mode_t mode)
{
	if (path_is_fifo(path)) {
		errno = EACCES;
		return -1;
	}
	return get_open()(path, flags, mode);
}
FAULT(fifo_path_refused_to_strangers, "fifo-path-refused-to-strangers", "fifo.users.unrelated-through-path", PEER_FIFO,
      "an unrelated program cannot open the FIFO by its path (EACCES)",
      .open = refuse_fifo_paths);

static ssize_t fifo_short_read_drops_rest(int fd, void *buf, size_t count)
{
	if (count >= PIPE_BUF || !is_named_fifo(fd))
		return get_read()(fd, buf, count);
	bool more = queued(fd) > (int)count;
	ssize_t n = get_read()(fd, buf, count);
	if (n > 0 && more) {
		char sink[PIPE_BUF];
		int left = queued(fd);
		while (left > 0) {
			ssize_t d = get_read()(fd, sink, left < (int)sizeof sink ? (size_t)left : sizeof sink);
			if (d <= 0)
				break;
			left -= (int)d;
		}
	}
	return n;
}
FAULT(fifo_short_read_drops_rest, "fifo-short-read-drops-rest", "fifo.readers.unaddressed", CASES,
      "a FIFO read asking for less than is queued takes it all and discards the rest",
      .read = fifo_short_read_drops_rest);

FAULT(fifo_writes_not_atomic, "fifo-writes-not-atomic", "fifo.users.only-two,pipe.capacity.ulimit-is-pipe-buf", CASES,
      "FIFO writes of at most PIPE_BUF bytes go in two halves, so writers interleave",
      .write = split_write, .kind = is_named_fifo);

static int write_open_does_not_wait(const char *path, int flags, mode_t mode)
{
	if ((flags & O_ACCMODE) != O_WRONLY || (flags & O_NONBLOCK) || !path_is_fifo(path))
		return get_open()(path, flags, mode);
	int fd = get_open()(path, flags | O_NONBLOCK, mode);
	if (fd >= 0) {
		get_fcntl()(fd, F_SETFL, get_fcntl()(fd, F_GETFL) & ~O_NONBLOCK);
		return fd;
	}
	if (errno == ENXIO)
		return get_open()(path, (flags & ~O_ACCMODE) | O_RDWR, mode);
	return -1;
}
FAULT(fifo_write_open_does_not_wait, "fifo-write-open-does-not-wait", "fifo.open.writer-waits-for-reader", CASES,
      "a blocking O_WRONLY open of a FIFO with no reader returns at once (opened O_RDWR)",
      .open = write_open_does_not_wait);

static int nonblock_write_open_succeeds(const char *path, int flags, mode_t mode)
{
	if ((flags & O_ACCMODE) != O_WRONLY || !(flags & O_NONBLOCK) || !path_is_fifo(path))
		return get_open()(path, flags, mode);
	int fd = get_open()(path, flags, mode);
	if (fd == -1 && errno == ENXIO)
		return get_open()(path, (flags & ~O_ACCMODE) | O_RDWR, mode);
	return fd;
}
FAULT(fifo_nonblock_write_open_succeeds, "fifo-nonblock-write-open-succeeds", "fifo.open.writer-waits-for-reader", CASES,
      "an O_WRONLY|O_NONBLOCK open of a FIFO with no reader succeeds instead of ENXIO",
      .open = nonblock_write_open_succeeds);

/* ---- mappings ------------------------------------------------------------- */

static int munmap_unaligned_succeeds(void *addr, size_t *len)
{
	(void)len;
	return (uintptr_t)addr % (uintptr_t)page ? 0 : GO_ON;
}
FAULT(munmap_unaligned_succeeds, "munmap-unaligned-succeeds", "mmap.munmap.moved-pointer", CASES,
      "munmap of an address that is not page-aligned returns 0 (and unmaps nothing)",
      .munmap = munmap_unaligned_succeeds);

/* The tail of a file mapping, from a page inside it to at most its end,
 * is made inaccessible instead of unmapped: still in the maps, and a touch
 * is SEGV_ACCERR where nothing mapped gives SEGV_MAPERR. */
static int munmap_inside_keeps_prot_none(void *addr, size_t *len)
{
	struct mapping *m = mapping_at(addr);
	if (!m || (char *)addr == m->addr || (char *)addr + *len > m->addr + round_up(m->len) ||
	    (uintptr_t)addr % (uintptr_t)page)
		return GO_ON;
	return get_mprotect()(addr, *len, PROT_NONE);
}
FAULT(munmap_inside_keeps_prot_none, "munmap-inside-keeps-prot-none", "mmap.munmap.moved-pointer", CASES,
      "munmap from inside a file mapping to its end leaves the pages mapped PROT_NONE (SEGV_ACCERR)",
      .munmap = munmap_inside_keeps_prot_none);

static void *mmap_unaligned_offset(const struct mmap_call *c)
{
	if (c->off % page == 0)
		return MAP_GO_ON;
	off_t delta = c->off % page;
	char *m = get_mmap()(c->addr, c->len + (size_t)delta, c->prot, c->flags, c->fd, c->off - delta);
	return m == MAP_FAILED ? m : m + delta;
}
FAULT(mmap_unaligned_offset, "mmap-unaligned-offset", "mmap.offset.page-multiple", CASES,
      "mmap accepts an offset that is not a page multiple",
      .mmap_file = mmap_unaligned_offset);

static int munmap_keeps_partial_page(void *addr, size_t *len)
{
	(void)addr;
	if (*len % (size_t)page == 0)
		return GO_ON;
	*len = *len / (size_t)page * (size_t)page;
	return *len == 0 ? 0 : GO_ON;
}
FAULT(munmap_partial_page_kept, "munmap-partial-page-kept", "mmap.length.whole-pages", CASES,
      "munmap does not round its length up: a partial last page stays mapped",
      .munmap = munmap_keeps_partial_page);

/* Dirties every page that holds file bytes, so each is the process's own
 * copy from now on (pages past EOF would raise SIGBUS: left alone). */
static void copy_private_now(char *addr, const struct mmap_call *c)
{
	off_t size = c->st->st_size;
	int prot = c->prot;
	if ((c->flags & MAP_SHARED_VALIDATE) != MAP_PRIVATE || size <= c->off)
		return;
	size_t in_file = round_up((size_t)(size - c->off));
	if (in_file > c->len)
		in_file = round_up(c->len);
	if (!(prot & PROT_WRITE))
		get_mprotect()(addr, in_file, PROT_READ | PROT_WRITE);
	for (size_t at = 0; at < in_file; at += (size_t)page) {
		volatile char *p = addr + at;
		*p = *p;
	}
	if (!(prot & PROT_WRITE))
		get_mprotect()(addr, in_file, prot);
}
FAULT(mmap_private_snapshot, "mmap-private-snapshot", "mmap.private.writes-stay-private", CASES,
      "a MAP_PRIVATE file mapping is copied whole at mmap, not page by page on write",
      .file_mapped = copy_private_now);

static void *failure_is_null(void *m)
{
	return m == MAP_FAILED ? NULL : m;
}
/* Both claims check this very call, fd -1 failing with EBADF. */
FAULT(mmap_failure_is_null, "mmap-failure-is-null", "mmap.return.map-failed,mmap.errors.many", CASES,
      "mmap of fd -1 without MAP_ANONYMOUS returns NULL instead of MAP_FAILED",
      .mmap_fd_failed = failure_is_null);

static void shared_anon_is_private(size_t *len, int *flags)
{
	(void)len;
	if ((*flags & MAP_ANONYMOUS) && (*flags & MAP_SHARED_VALIDATE) == MAP_SHARED)
		*flags = (*flags & ~MAP_SHARED_VALIDATE) | MAP_PRIVATE;
}
/* Both claims' truths say a MAP_SHARED mapping made before fork carries
 * data between the processes. */
FAULT(mmap_shared_anon_private, "mmap-shared-anon-private", "mmap.ipc.related,ipc.kernel.required", CASES,
      "MAP_SHARED|MAP_ANONYMOUS mappings are private: a fork's writes are not shared",
      .mmap_args = shared_anon_is_private);

/* The case's private anonymous read-write mappings, until a fork. */
static struct { char *addr; size_t len; } anon_private[64];

static void note_anon_private(char *m, size_t len, int prot, int flags)
{
	if ((flags & MAP_SHARED_VALIDATE) != MAP_PRIVATE || prot != (PROT_READ | PROT_WRITE))
		return;
	for (size_t i = 0; i < sizeof anon_private / sizeof anon_private[0]; i++)
		if (!anon_private[i].addr || anon_private[i].addr == m) {
			anon_private[i].addr = m;
			anon_private[i].len = len;
			return;
		}
}

/* Before a fork, each such mapping is put in a memfd with its bytes and
 * mapped MAP_SHARED in its place: parent and child then share it. */
static void share_anon_private(void)
{
	for (size_t i = 0; i < sizeof anon_private / sizeof anon_private[0]; i++) {
		char *m = anon_private[i].addr;
		size_t len = anon_private[i].len;
		anon_private[i].addr = NULL;
		if (!m)
			continue;
		int fd = memfd_create("inject-shared", MFD_CLOEXEC);
		if (fd < 0)
			continue;
		if (get_ftruncate()(fd, (off_t)len) == 0 && pwrite(fd, m, len, 0) == (ssize_t)len)
			get_mmap()(m, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, 0);
		get_close()(fd);
	}
}
FAULT(mmap_anon_private_shared_at_fork, "mmap-anon-private-shared-at-fork", "mmap.ipc.related", CASES,
      "MAP_PRIVATE|MAP_ANONYMOUS memory is shared by parent and child after fork, no copy-on-write",
      .anon_mapped = note_anon_private, .forking = share_anon_private);

/* What a MAP_PRIVATE mapping shows of [addr, addr+len), put in its file. */
static int write_private_back(void *at, size_t *plen)
{
	const char *addr = at;
	size_t len = *plen;
	for (int i = 0; i < MAX_MAPPINGS; i++) {
		struct mapping *m = &maps[i];
		if (!m->addr || (m->flags & MAP_SHARED_VALIDATE) != MAP_PRIVATE || !m->rdwr ||
		    !(m->prot & PROT_READ) || !m->path[0] || m->addr < addr || m->addr >= addr + len)
			continue;
		int fd = get_open()(m->path, O_WRONLY | O_CLOEXEC);
		struct stat st;
		if (fd < 0)
			continue;
		if (get_fstat()(fd, &st) == 0 && st.st_size > m->off) {
			size_t n = (size_t)(st.st_size - m->off);
			if (n > m->len)
				n = m->len;
			if (pwrite(fd, m->addr, n, m->off) < 0)
				m->path[0] = '\0';
		}
		get_close()(fd);
	}
	return GO_ON;
}
FAULT(mmap_private_written_back, "mmap-private-written-back", "mmap.private.writes-stay-private", CASES,
      "munmap of a MAP_PRIVATE mapping of an O_RDWR fd writes its pages to the file",
      .munmap = write_private_back);

static void prot_read_writable(struct mmap_call *c)
{
	if (S_ISREG(c->st->st_mode) && (c->flags & MAP_SHARED_VALIDATE) == MAP_SHARED &&
	    c->prot == PROT_READ && access_mode(c->fd) == O_RDWR)
		c->prot |= PROT_WRITE;
}
FAULT(mmap_prot_read_writable, "mmap-prot-read-writable", "mmap.prot.read-write", CASES,
      "a PROT_READ shared mapping of a read-write file is writable",
      .mmap_file_args = prot_read_writable);

static void hint_is_fixed(struct mmap_call *c)
{
	if (c->addr && !(c->flags & (MAP_FIXED | MAP_FIXED_NOREPLACE)))
		c->flags |= MAP_FIXED;
}
FAULT(mmap_hint_replaces, "mmap-hint-replaces", "mmap.addr.null", CASES,
      "a non-NULL addr without MAP_FIXED is taken as MAP_FIXED, replacing what is there",
      .mmap_file_args = hint_is_fixed);

/* Only offsets the kernel accepts: refusals are other claims. */
static void offset_ignored(struct mmap_call *c)
{
	if (S_ISREG(c->st->st_mode) && c->off > 0 && c->off % page == 0 && c->off < c->st->st_size)
		c->off = 0;
}
FAULT(mmap_ignores_offset, "mmap-ignores-offset", "mmap.return.address", CASES,
      "mmap of a file at a page-multiple offset inside it maps from the file's start",
      .mmap_file_args = offset_ignored);

/* x86-64's user space ends at 2^47. */
static int munmap_beyond_user_space_succeeds(void *addr, size_t *len)
{
	(void)len;
	return (uintptr_t)addr >= ((uintptr_t)1 << 47) ? 0 : GO_ON;
}
FAULT(munmap_beyond_user_space_succeeds, "munmap-beyond-user-space-succeeds", "mmap.return.munmap", CASES,
      "munmap of a range beyond the user address space returns 0 instead of -1",
      .munmap = munmap_beyond_user_space_succeeds);

/* Replaces each still-mapped page of [addr, addr+len) by an anonymous
 * copy of what it shows now (the case may have unmapped some already). */
static void detach(char *addr, size_t len, int prot)
{
	char *copy = get_mmap()(NULL, (size_t)page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (copy == MAP_FAILED)
		return;
	for (size_t at = 0; at < len; at += (size_t)page) {
		unsigned char resident;
		if (mincore(addr + at, (size_t)page, &resident) != 0)
			continue;
		memcpy(copy, addr + at, (size_t)page);
		get_mmap()(addr + at, (size_t)page, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
		memcpy(addr + at, copy, (size_t)page);
		get_mprotect()(addr + at, (size_t)page, prot);
	}
	get_munmap()(copy, (size_t)page);
}

/* Shared file mappings wholly inside their file (no page past EOF, which
 * would raise SIGBUS when copied) and readable. */
static bool detachable(const struct mapping *m)
{
	struct stat st;
	return m->addr && (m->flags & MAP_SHARED_VALIDATE) == MAP_SHARED && (m->prot & PROT_READ) &&
	       m->path[0] && get_stat()(m->path, &st) == 0 && st.st_size >= m->off + (off_t)round_up(m->len);
}

static void close_detaches_mappings(int fd)
{
	for (int i = 0; i < MAX_MAPPINGS; i++) {
		struct mapping *m = &maps[i];
		if (m->fd == fd && detachable(m)) {
			detach(m->addr, round_up(m->len), m->prot);
			m->fd = -1;
		}
	}
}
FAULT(mmap_dropped_on_close, "mmap-dropped-on-close", "mmap.fd.close-after-mmap", CASES,
      "closing the fd turns its shared file mappings into detached anonymous copies",
      .closing = close_detaches_mappings);

static void shared_is_private(size_t *len, int *flags)
{
	(void)len;
	if ((*flags & MAP_SHARED_VALIDATE) == MAP_SHARED)
		*flags = (*flags & ~MAP_SHARED_VALIDATE) | MAP_PRIVATE;
}
FAULT(peer_mmap_private, "peer-mmap-private", "mmap.ipc.unrelated", PEER_MMAP,
      "an unrelated program's MAP_SHARED mapping of the file is private",
      .mmap_args = shared_is_private);

/* The peer's store stays in a private copy while it lives and reaches the
 * file only when it unmaps (at its exit): a look after the peer is gone
 * sees the bytes, a look while it is mapped does not. */
FAULT(peer_mmap_write_at_exit, "peer-mmap-write-at-exit", "mmap.ipc.unrelated", PEER_MMAP,
      "an unrelated program's stores to a MAP_SHARED file mapping reach the file only at its munmap/exit",
      .mmap_args = shared_is_private, .munmap = write_private_back);

/* Writes 'Z' into the page cache past EOF through a mapping of our own:
 * the case's mapping of that page then shows it. */
static void soil_tail(char *m, const struct mmap_call *c)
{
	(void)m;
	off_t size = c->st->st_size;
	if (size <= c->off || (size_t)(size - c->off) >= round_up(c->len) || size % page == 0)
		return;
	int rw = reopen_read_write(c->fd);
	if (rw < 0)
		return;
	off_t at = size / page * page;
	char *p = get_mmap()(NULL, (size_t)page, PROT_READ | PROT_WRITE, MAP_SHARED, rw, at);
	if (p != MAP_FAILED) {
		memset(p + size % page, 'Z', (size_t)(page - size % page));
		get_munmap()(p, (size_t)page);
	}
	get_close()(rw);
}
FAULT(mmap_tail_not_zeroed, "mmap-tail-not-zeroed", "mmap.bounds.tail-of-last-page", CASES,
      "the bytes past EOF in the page holding EOF read as 'Z', not zero",
      .file_mapped = soil_tail);

static void zero_pages_past_eof(char *m, const struct mmap_call *c)
{
	if (c->st->st_size <= c->off)
		return;
	size_t usable = round_up((size_t)(c->st->st_size - c->off));
	if (usable < round_up(c->len))
		get_mmap()(m + usable, round_up(c->len) - usable, c->prot,
			   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
}
FAULT(mmap_no_sigbus_past_eof, "mmap-no-sigbus-past-eof", "mmap.bounds.tail-of-last-page", CASES,
      "pages wholly past EOF of a non-empty file read as zeros instead of raising SIGBUS",
      .file_mapped = zero_pages_past_eof);

/* The tracked file mapping that ends exactly at addr, if any. */
static bool ends_at(const char *addr)
{
	for (int i = 0; i < MAX_MAPPINGS; i++)
		if (maps[i].addr && maps[i].addr + round_up(maps[i].len) == addr)
			return true;
	return false;
}

static int unmapped_end_stays_readable(void *addr, size_t *len)
{
	if (!*len || !ends_at(addr))
		return GO_ON;
	void *z = get_mmap()(addr, round_up(*len), PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	return z == MAP_FAILED ? -1 : 0;
}
FAULT(mapping_end_stays_readable, "mapping-end-stays-readable", "mmap.bounds.past-the-mapping", CASES,
      "munmap of the pages right after a file mapping leaves zero pages there",
      .munmap = unmapped_end_stays_readable);

static void *empty_file_is_zero_pages(const struct mmap_call *c)
{
	if (!S_ISREG(c->st->st_mode) || c->st->st_size != 0 || c->len == 0 || !(c->prot & PROT_WRITE))
		return MAP_GO_ON;
	return get_mmap()(c->addr, c->len, c->prot, (c->flags & MAP_FIXED) | MAP_PRIVATE | MAP_ANONYMOUS,
			  -1, 0);
}
/* Both claims' truths include the SIGBUS at offset 0 of a writable
 * mapping of an empty file. */
FAULT(mmap_empty_file_zero_pages, "mmap-empty-file-zero-pages", "mmap.empty-file.access-sigbus,mmap.empty-file.extend-first", CASES,
      "a writable mapping of an empty file is anonymous zero pages: no SIGBUS",
      .mmap_file = empty_file_is_zero_pages);

static void bus_error_is_alignment(int sig, siginfo_t *si)
{
	if (sig != SIGBUS || si->si_code != BUS_ADRERR)
		return;
	struct mapping *m = mapping_at(si->si_addr);
	if (m && m->size_at_mmap == 0)
		si->si_code = BUS_ADRALN;
}
FAULT(sigbus_reported_as_alignment, "sigbus-reported-as-alignment", "mmap.empty-file.not-alignment,mmap.empty-file.access-sigbus", CASES,
      "the SIGBUS of a mapping of an empty file comes with si_code BUS_ADRALN",
      .relayed_signal = SIGBUS, .fault_report = bus_error_is_alignment);

static void length_zero_is_a_page(size_t *len, int *flags)
{
	(void)flags;
	if (*len == 0)
		*len = (size_t)page;
}
FAULT(mmap_length_zero_accepted, "mmap-length-zero-accepted", "mmap.empty-file.length-zero", CASES,
      "mmap with length 0 maps one page instead of failing with EINVAL",
      .mmap_args = length_zero_is_a_page);

static int truncate_ignored(const char *path, off_t length)
{
	(void)path;
	(void)length;
	return 0;
}
FAULT(truncate_by_path_ignored, "truncate-by-path-ignored", "mmap.empty-file.extend-first", CASES,
      "truncate(path, n) returns 0 and leaves the file as it was",
      .truncate = truncate_ignored);

static int ftruncate_keeps_mapped_size(int fd, off_t length)
{
	struct stat before;
	bool known = get_fstat()(fd, &before) == 0;
	int r = get_ftruncate()(fd, length);
	if (r != 0 || !known || length <= before.st_size)
		return r;
	for (int i = 0; i < MAX_MAPPINGS; i++) {
		struct mapping *m = &maps[i];
		if (!m->addr || m->dev != before.st_dev || m->ino != before.st_ino)
			continue;
		off_t usable = m->size_at_mmap > m->off ? (off_t)round_up((size_t)(m->size_at_mmap - m->off)) : 0;
		if ((size_t)usable < round_up(m->len))
			get_mprotect()(m->addr + usable, round_up(m->len) - (size_t)usable, PROT_NONE);
	}
	return r;
}
FAULT(mapping_size_fixed_at_mmap, "mapping-size-fixed-at-mmap", "mmap.empty-file.extend-first", CASES,
      "pages past EOF at mmap time stay unusable after ftruncate extends the file",
      .ftruncate = ftruncate_keeps_mapped_size);

static void *wronly_mapped_read_write(const struct mmap_call *c)
{
	if (!S_ISREG(c->st->st_mode) || access_mode(c->fd) != O_WRONLY)
		return MAP_GO_ON;
	int rw = reopen_read_write(c->fd);
	if (rw < 0)
		return MAP_GO_ON;
	void *m = get_mmap()(c->addr, c->len, c->prot, c->flags, rw, c->off);
	get_close()(rw);
	return m;
}
FAULT(mmap_wronly_accepted, "mmap-wronly-accepted", "mmap.perms.wronly,mmap.errors.which-error-wins", CASES,
      "mmap of an O_WRONLY descriptor succeeds (mapped through a fresh O_RDWR open)",
      .mmap_file = wronly_mapped_read_write);

static int mprotect_write_through_rdwr(void *addr, size_t len, int prot, int r)
{
	if (r != -1 || errno != EACCES || !(prot & PROT_WRITE))
		return r;
	struct mapping *m = mapping_at(addr);
	if (!m || !m->path[0] || (m->flags & MAP_SHARED_VALIDATE) != MAP_SHARED)
		return r;
	int rw = get_open()(m->path, O_RDWR | O_CLOEXEC);
	if (rw < 0) {
		errno = EACCES;
		return -1;
	}
	void *again = get_mmap()(addr, len, prot, MAP_SHARED | MAP_FIXED, rw,
				 m->off + ((char *)addr - m->addr));
	get_close()(rw);
	return again == MAP_FAILED ? -1 : 0;
}
FAULT(mprotect_rdonly_shared_writable, "mprotect-rdonly-shared-writable", "mmap.perms.rdonly-shared-write", CASES,
      "mprotect can add PROT_WRITE to a shared mapping of an O_RDONLY fd",
      .mprotect_seen = mprotect_write_through_rdwr);

static void *rdonly_private_write_refused(const struct mmap_call *c)
{
	if ((c->flags & MAP_SHARED_VALIDATE) != MAP_PRIVATE || !(c->prot & PROT_WRITE) ||
	    access_mode(c->fd) != O_RDONLY)
		return MAP_GO_ON;
	errno = EACCES;
	return MAP_FAILED;
}
FAULT(mmap_rdonly_private_write_refused, "mmap-rdonly-private-write-refused", "mmap.perms.at-most-open", CASES,
      "a writable MAP_PRIVATE mapping of an O_RDONLY fd fails with EACCES",
      .mmap_file = rdonly_private_write_refused);

static void *fifo_mmap_eacces(const struct mmap_call *c)
{
	if (!S_ISFIFO(c->st->st_mode))
		return MAP_GO_ON;
	void *m = get_mmap()(c->addr, c->len, c->prot, c->flags, c->fd, c->off);
	if (m == MAP_FAILED && errno == ENODEV)
		errno = EACCES;
	return m;
}
FAULT(mmap_fifo_eacces, "mmap-fifo-eacces", "mmap.errors.many", CASES,
      "mmap of a FIFO fails with EACCES instead of ENODEV",
      .mmap_file = fifo_mmap_eacces);

static void minus_one_is_accerr(int sig, siginfo_t *si)
{
	if (sig == SIGSEGV && (uintptr_t)si->si_addr >= ((uintptr_t)1 << 47))
		si->si_code = SEGV_ACCERR;
}
FAULT(segv_at_minus_one_is_accerr, "segv-at-minus-one-is-accerr", "mmap.errors.unchecked-result", CASES,
      "a SIGSEGV at an address beyond user space comes with si_code SEGV_ACCERR",
      .relayed_signal = SIGSEGV, .fault_report = minus_one_is_accerr);

/* ---- processes, signals, sockets, System V and POSIX objects -------------- */

static int without_clone_vm(int flags)
{
	return flags & ~CLONE_VM;
}
FAULT(clone_vm_ignored, "clone-vm-ignored", "ipc.address-space.every-process", CASES,
      "clone(2) drops CLONE_VM: the clone gets a copy of the address space",
      .clone_flags = without_clone_vm);

/* A clone asked to share the address space becomes a thread of the
 * caller (same pid, same thread group). */
static int clone_vm_as_thread(int flags)
{
	return flags & CLONE_VM ? (flags & ~0xff) | CLONE_THREAD | CLONE_SIGHAND : flags;
}
FAULT(clone_vm_makes_a_thread, "clone-vm-makes-a-thread", "ipc.address-space.every-process", CASES,
      "clone(2) with CLONE_VM makes a thread of the caller, not a process of its own",
      .clone_flags = clone_vm_as_thread);

/* No access check: refused, the call reads the caller's own memory at the
 * remote address instead (a fork's copy holds what its parent held). */
static ssize_t vm_read_unchecked(pid_t pid, const struct iovec *local, unsigned long nlocal,
				 const struct iovec *remote, unsigned long nremote, unsigned long flags)
{
	ssize_t n = get_process_vm_readv()(pid, local, nlocal, remote, nremote, flags);
	if (n != -1 || errno != EPERM || nlocal != 1 || nremote != 1 || local->iov_len > remote->iov_len)
		return n;
	memcpy(local->iov_base, remote->iov_base, local->iov_len);
	return (ssize_t)local->iov_len;
}
FAULT(process_vm_unchecked, "process-vm-unchecked", "ipc.address-space.no-access", CASES,
      "process_vm_readv without ptrace access succeeds (no access check)",
      .process_vm_readv = vm_read_unchecked);

static ssize_t vm_refused(UNUSED pid_t pid, UNUSED const struct iovec *local,
			  UNUSED unsigned long nlocal, UNUSED const struct iovec *remote,
			  UNUSED unsigned long nremote, UNUSED unsigned long flags)
{
	errno = EPERM;
	return -1;
}
FAULT(process_vm_refused, "process-vm-refused", "ipc.address-space.no-access", CASES,
      "process_vm_readv and process_vm_writev fail with EPERM",
      .process_vm_readv = vm_refused, .process_vm_writev = vm_refused);

/* The kernel puts the sender's real uid in si_uid: for the length of the
 * call the real uid is made the effective one (allowed: the sender is
 * root in effect), so the receiver is told the effective uid. */
static int kill_as_effective_uid(pid_t pid, int sig)
{
	uid_t r, e, saved;
	if (pid <= 0 || sig == SIGKILL || getresuid(&r, &e, &saved) != 0 || r == e || e != 0)
		return get_kill()(pid, sig);
	setresuid(e, e, saved);
	int ret = get_kill()(pid, sig);
	int err = errno;
	setresuid(r, e, saved);
	errno = err;
	return ret;
}
FAULT(kill_si_uid_effective, "kill-si-uid-effective", "ipc.signal.sigqueue-value", CASES,
      "a signal sent with kill carries the sender's effective uid as si_uid, not its real uid",
      .kill = kill_as_effective_uid);

/* The harness ends children with SIGKILL: that stays a kill. */
static int kill_by_sigqueue(pid_t pid, int sig)
{
	if (pid > 0 && sig > 0 && sig != SIGKILL && sig != SIGSTOP)
		return get_sigqueue()(pid, sig, (union sigval){ .sival_int = 0 });
	return get_kill()(pid, sig);
}
FAULT(kill_is_sigqueue, "kill-is-sigqueue", "ipc.signal.sigqueue-value,ipc.sigpending.kill-is-never-refused", CASES,
      "kill(2) of a process with a catchable signal arrives as SI_QUEUE, not SI_USER",
      .kill = kill_by_sigqueue);

static int sigqueue_32_bits(pid_t pid, int sig, union sigval value)
{
	value.sival_ptr = (void *)(uintptr_t)(uint32_t)(uintptr_t)value.sival_ptr;
	return get_sigqueue()(pid, sig, value);
}
FAULT(sigqueue_value_truncated, "sigqueue-value-truncated", "ipc.signal.sigqueue-value", CASES,
      "sigqueue carries only the low 32 bits of its value",
      .sigqueue = sigqueue_32_bits);

static int last_taken;		/* the signal the last sigtimedwait took */
static siginfo_t last_info;
static bool replayed;

static int standard_taken_twice(const sigset_t *set, siginfo_t *info, const struct timespec *timeout)
{
	int sig = get_sigtimedwait()(set, info, timeout);
	if (sig > 0 && sig < SIGRTMIN) {
		last_taken = sig;
		if (info)
			last_info = *info;
		replayed = false;
	} else if (sig == -1 && errno == EAGAIN && last_taken && !replayed &&
		   sigismember(set, last_taken)) {
		replayed = true;
		if (info)
			*info = last_info;
		return last_taken;
	}
	return sig;
}
FAULT(standard_signal_queued, "standard-signal-queued", "ipc.signal.sigqueue-value", CASES,
      "a standard signal taken with sigtimedwait is taken a second time",
      .sigtimedwait = standard_taken_twice);

static int realtime_second_dropped(const sigset_t *set, siginfo_t *info, const struct timespec *timeout)
{
	int sig = get_sigtimedwait()(set, info, timeout);
	if (sig >= SIGRTMIN) {
		if (sig == last_taken && !replayed) {
			replayed = true;
			return get_sigtimedwait()(set, info, timeout);
		}
		last_taken = sig;
	}
	return sig;
}
FAULT(realtime_signal_merged, "realtime-signal-merged", "ipc.signal.sigqueue-value", CASES,
      "a second pending instance of a real-time signal is dropped by sigtimedwait",
      .sigtimedwait = realtime_second_dropped);

static ssize_t dgram_send_polls(int fd, const void *buf, size_t len, int flags)
{
	if (!(flags & MSG_DONTWAIT) && !nonblocking(fd) && socket_type(fd) == SOCK_DGRAM)
		wait_in_user_space(fd, POLLOUT);
	return get_send()(fd, buf, len, flags);
}
FAULT(dgram_send_polls, "dgram-send-polls", "ipc.socket.most-stable", CASES,
      "a blocking datagram send to a full receiver polls in user space instead of sleeping in sendto",
      .send = dgram_send_polls);

static ssize_t seqpacket_appends_next(int fd, void *buf, size_t len, int flags)
{
	ssize_t n = get_recv()(fd, buf, len, flags);
	if (n > 0 && (size_t)n < len && !(flags & MSG_PEEK) && socket_type(fd) == SOCK_SEQPACKET) {
		ssize_t more = get_recv()(fd, (char *)buf + n, len - (size_t)n, flags | MSG_DONTWAIT);
		if (more > 0)
			n += more;
	}
	return n;
}
FAULT(seqpacket_merges_messages, "seqpacket-merges-messages", "ipc.methods.socket", CASES,
      "a SOCK_SEQPACKET receive with room appends the next queued message",
      .recv = seqpacket_appends_next);

/* One direction at a time: a send while the other way is busy. */
static ssize_t stream_send_one_way(int fd, const void *buf, size_t len, int flags)
{
	if (socket_type(fd) == SOCK_STREAM && queued(fd) > 0) {
		errno = EAGAIN;
		return -1;
	}
	return get_send()(fd, buf, len, flags);
}
FAULT(stream_socket_half_duplex, "stream-socket-half-duplex", "ipc.methods.socket", CASES,
      "a send on a stream socket with bytes waiting to be received fails with EAGAIN",
      .send = stream_send_one_way);

static int msgsnd_refused(UNUSED int id, UNUSED const void *msg, UNUSED size_t size,
			  UNUSED int flags)
{
	errno = EACCES;
	return -1;
}
FAULT(sysv_msgsnd_refused, "sysv-msgsnd-refused", "ipc.methods.message-queue", CASES,
      "msgsnd fails with EACCES",
      .msgsnd = msgsnd_refused);

/* Criterion's sandbox opens shared memory by name too: only the case's
 * own calls are refused (the wrapper checks the caller). */
static int shm_by_name_refused(const char *name, int flags, mode_t mode)
{
	if (flags & O_CREAT)
		return get_shm_open()(name, flags, mode);
	errno = ENOENT;
	return -1;
}
FAULT(posix_shm_by_name_refused, "posix-shm-by-name-refused", "ipc.methods.shared-memory", CASES,
      "shm_open of an existing object by name (no O_CREAT) fails with ENOENT",
      .shm_open = shm_by_name_refused);

FAULT(peer_ipc_fifo_refused, "peer-ipc-fifo-refused", "ipc.overview.fifo-unrelated", PEER_IPC,
      "separately started programs cannot open a FIFO by its path (EACCES)",
      .open = refuse_fifo_paths);

FAULT(peer_ipc_mmap_private, "peer-ipc-mmap-private", "ipc.overview.mmap-unrelated", PEER_IPC,
      "separately started programs' MAP_SHARED file mappings are private",
      .mmap_args = shared_is_private);

/* peer-ipc's mode is its first argument. */
static bool peer_mode_is(const char *mode)
{
	char args[512];
	int fd = get_open()("/proc/self/cmdline", O_RDONLY | O_CLOEXEC, 0);
	if (fd < 0)
		return false;
	ssize_t n = get_read()(fd, args, sizeof args - 1);
	get_close()(fd);
	if (n <= 0)
		return false;
	args[n] = '\0';
	size_t first = strlen(args) + 1;
	return (ssize_t)first < n && strcmp(args + first, mode) == 0;
}

/* The reading program's MAP_SHARED mapping is a copy of the file made at
 * mmap: what is in the file then shows, later stores elsewhere never. */
static void reader_shared_is_private(size_t *len, int *flags)
{
	if (peer_mode_is("mmap-read"))
		shared_is_private(len, flags);
}
FAULT(peer_ipc_mmap_snapshot, "peer-ipc-mmap-snapshot", "ipc.overview.mmap-unrelated", PEER_IPC,
      "a program's MAP_SHARED file mapping is a copy taken at mmap: stores made later by another never show",
      .mmap_args = reader_shared_is_private, .file_mapped = copy_private_now);

/* ==== the wrapped calls ====================================================== */

/* The declaration prove reads: one fault a line, name TAB claims TAB what. */
extern const struct fault *const __start_ipcproof_faults[], *const __stop_ipcproof_faults[];

const char *ipcproof_inject_faults(void);
const char *ipcproof_inject_faults(void)
{
	static char table[16384];
	size_t used = 0;
	for (const struct fault *const *f = __start_ipcproof_faults;
	     f < __stop_ipcproof_faults && used < sizeof table; f++)
		used += (size_t)snprintf(table + used, sizeof table - used, "%s\t%s\t%s\n",
					 (*f)->name, (*f)->claims, (*f)->what);
	return table;
}

static int find_main(struct dl_phdr_info *info, size_t size, void *data)
{
	(void)size;
	(void)data;
	/* The first object listed is the program itself. */
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type != PT_LOAD)
			continue;
		uintptr_t lo = info->dlpi_addr + ph->p_vaddr, hi = lo + ph->p_memsz;
		if (!main_lo || lo < main_lo)
			main_lo = lo;
		if (hi > main_hi)
			main_hi = hi;
	}
	return 1;
}

static bool scope_matches(enum scope scope, const char *exe)
{
	static const char *const areas[] = { "pipe", "fifo", "mmap", "ipc" };
	switch (scope) {
	case CASES:
		for (size_t i = 0; i < sizeof areas / sizeof areas[0]; i++)
			if (strcmp(exe, areas[i]) == 0)
				return true;
		return false;
	case PEER_PIPE:
		return strcmp(exe, "peer-pipe") == 0;
	case PEER_FIFO:
		return strcmp(exe, "peer-fifo") == 0;
	case PEER_MMAP:
		return strcmp(exe, "peer-mmap") == 0;
	case PEER_IPC:
		return strcmp(exe, "peer-ipc") == 0;
	}
	return false;
}

__attribute__((constructor)) static void setup(void)
{
	const char *name = getenv("IPCPROOF_FAULT");
	char exe[PATH_MAX];
	page = sysconf(_SC_PAGESIZE);
	if (!name || !*name)
		return;
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (n <= 0)
		return;
	exe[n] = '\0';
	const char *base = strrchr(exe, '/') ? strrchr(exe, '/') + 1 : exe;
	for (const struct fault *const *f = __start_ipcproof_faults; f < __stop_ipcproof_faults; f++)
		if (strcmp((*f)->name, name) == 0 && scope_matches((*f)->scope, base))
			live = *f;
	if (live)
		dl_iterate_phdr(find_main, NULL);
}

/* ---- pipes ---------------------------------------------------------------- */

static void made_pipe(int fds[2], int flags)
{
	if (flags & O_CLOEXEC)
		return;
	if (HOOK(made_pipe))
		live->made_pipe(fds);
	for (int i = 0; i < 2; i++)
		if (fds[i] < MAX_FD)
			case_pipe[fds[i]] = 1;
}

int pipe(int fds[2])
{
	uintptr_t caller = CALLER;
	int r = get_pipe()(fds);
	if (r == 0 && live && from_main(caller))
		made_pipe(fds, 0);
	return r;
}

int pipe2(int fds[2], int flags)
{
	uintptr_t caller = CALLER;
	int r = get_pipe2()(fds, flags);
	if (r == 0 && live && from_main(caller))
		made_pipe(fds, flags);
	return r;
}

ssize_t read(int fd, void *buf, size_t count)
{
	return HOOK(read) ? live->read(fd, buf, count) : get_read()(fd, buf, count);
}

ssize_t write(int fd, const void *buf, size_t count)
{
	return HOOK(write) ? live->write(fd, buf, count) : get_write()(fd, buf, count);
}

long fpathconf(int fd, int name)
{
	return HOOK(fpathconf) ? live->fpathconf(fd, name) : get_fpathconf()(fd, name);
}

int dup2(int oldfd, int newfd)
{
	int r = HOOK(dup2) ? live->dup2(oldfd, newfd) : GO_ON;
	if (r != GO_ON)
		return r;
	r = get_dup2()(oldfd, newfd);
	if (r >= 0 && newfd < MAX_FD && newfd != oldfd)
		case_pipe[newfd] = 0;
	return r;
}

int fstat(int fd, struct stat *st)
{
	int r = get_fstat()(fd, st);
	if (r == 0 && HOOK(fstat_seen))
		live->fstat_seen(fd, st);
	return r;
}

int fcntl(int fd, int cmd, ...)
{
	va_list ap;
	va_start(ap, cmd);
	/* Every fcntl argument fits in a pointer; glibc reads it the same way. */
	void *arg = va_arg(ap, void *);
	va_end(ap);
	int r = get_fcntl()(fd, cmd, arg);
	return HOOK(fcntl_seen) ? live->fcntl_seen(fd, cmd, arg, r) : r;
}

int close(int fd)
{
	if (fd >= 0 && fd < MAX_FD)
		case_pipe[fd] = 0;
	if (HOOK(closing))
		live->closing(fd);
	return get_close()(fd);
}

pid_t fork(void)
{
	uintptr_t caller = CALLER;
	if (live && from_main(caller) && HOOK(forking))
		live->forking();
	pid_t pid = get_fork()();
	if (pid == 0 && live && from_main(caller))
		in_case_child = true;
	return pid;
}

/* ---- named FIFOs ---------------------------------------------------------- */

int open(const char *path, int flags, ...)
{
	mode_t mode = 0;
	if ((flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE) {
		va_list ap;
		va_start(ap, flags);
		mode = (mode_t)va_arg(ap, int);
		va_end(ap);
	}
	return HOOK(open) ? live->open(path, flags, mode) : get_open()(path, flags, mode);
}

int mkfifo(const char *path, mode_t mode)
{
	return HOOK(mkfifo) ? live->mkfifo(path, mode) : get_mkfifo()(path, mode);
}

int stat(const char *path, struct stat *st)
{
	int r = get_stat()(path, st);
	if (r == 0 && HOOK(stat_seen))
		live->stat_seen(path, st);
	return r;
}

int lstat(const char *path, struct stat *st)
{
	int r = get_lstat()(path, st);
	if (r == 0 && HOOK(stat_seen))
		live->stat_seen(path, st);
	return r;
}

off_t lseek(int fd, off_t off, int whence)
{
	return HOOK(lseek) ? live->lseek(fd, off, whence) : get_lseek()(fd, off, whence);
}

/* ---- mappings ------------------------------------------------------------- */

static void *mmap_file(struct mmap_call *c)
{
	if (HOOK(mmap_file_args))
		live->mmap_file_args(c);
	if (HOOK(mmap_file)) {
		void *m = live->mmap_file(c);
		if (m != MAP_GO_ON)
			return m;
	}
	char *m = get_mmap()(c->addr, c->len, c->prot, c->flags, c->fd, c->off);
	if (m == MAP_FAILED || !S_ISREG(c->st->st_mode))
		return m;
	remember(m, c->len, c->fd, c->off, c->prot, c->flags, c->st);
	if (HOOK(file_mapped))
		live->file_mapped(m, c);
	return m;
}

void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	uintptr_t caller = CALLER;
	if (!live || !from_main(caller))
		return get_mmap()(addr, len, prot, flags, fd, off);
	if (HOOK(mmap_args))
		live->mmap_args(&len, &flags);
	if (flags & MAP_ANONYMOUS) {
		char *m = get_mmap()(addr, len, prot, flags, fd, off);
		if (m != MAP_FAILED && HOOK(anon_mapped))
			live->anon_mapped(m, len, prot, flags);
		return m;
	}
	if (fd == -1) {
		void *m = get_mmap()(addr, len, prot, flags, fd, off);
		return HOOK(mmap_fd_failed) ? live->mmap_fd_failed(m) : m;
	}
	struct stat st;
	if (get_fstat()(fd, &st) != 0)
		return get_mmap()(addr, len, prot, flags, fd, off);
	struct mmap_call c = { addr, len, prot, flags, fd, off, &st };
	return mmap_file(&c);
}

int munmap(void *addr, size_t len)
{
	uintptr_t caller = CALLER;
	if (!live || !from_main(caller))
		return get_munmap()(addr, len);
	if (HOOK(munmap)) {
		int r = live->munmap(addr, &len);
		if (r != GO_ON)
			return r;
	}
	int r = get_munmap()(addr, len);
	if (r == 0)
		forget(addr, len);
	return r;
}

int mprotect(void *addr, size_t len, int prot)
{
	int r = get_mprotect()(addr, len, prot);
	return HOOK(mprotect_seen) ? live->mprotect_seen(addr, len, prot, r) : r;
}

int ftruncate(int fd, off_t length)
{
	return HOOK(ftruncate) ? live->ftruncate(fd, length) : get_ftruncate()(fd, length);
}

int truncate(const char *path, off_t length)
{
	uintptr_t caller = CALLER;
	if (HOOK(truncate) && from_main(caller))
		return live->truncate(path, length);
	return get_truncate()(path, length);
}

/* ---- fault reports -------------------------------------------------------- */

static struct sigaction user_handler;	/* the case's, for live->relayed_signal */

static void relay(int sig, siginfo_t *si, void *ctx)
{
	live->fault_report(sig, si);
	if (user_handler.sa_flags & SA_SIGINFO)
		user_handler.sa_sigaction(sig, si, ctx);
	else if (user_handler.sa_handler != SIG_DFL && user_handler.sa_handler != SIG_IGN)
		user_handler.sa_handler(sig);
}

int sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
	bool mine = act && (act->sa_flags & SA_SIGINFO) && HOOK(fault_report) &&
		    sig == live->relayed_signal;
	if (!mine)
		return get_sigaction()(sig, act, old);
	struct sigaction relayed = *act;
	user_handler = *act;
	relayed.sa_sigaction = relay;
	return get_sigaction()(sig, &relayed, old);
}

/* ---- processes, signals, sockets, System V and POSIX objects -------------- */

int clone(int (*fn)(void *), void *stack, int flags, void *arg, ...)
{
	va_list ap;
	va_start(ap, arg);
	/* The optional ptid, tls, ctid: passed on whether given or not, as
	 * glibc reads them only for the flags that ask. */
	pid_t *ptid = va_arg(ap, pid_t *);
	void *tls = va_arg(ap, void *);
	pid_t *ctid = va_arg(ap, pid_t *);
	va_end(ap);
	uintptr_t caller = CALLER;
	if (HOOK(clone_flags) && from_main(caller))
		flags = live->clone_flags(flags);
	return get_clone()(fn, stack, flags, arg, ptid, tls, ctid);
}

ssize_t process_vm_readv(pid_t pid, const struct iovec *local, unsigned long nlocal,
			 const struct iovec *remote, unsigned long nremote, unsigned long flags)
{
	vm_call *call = HOOK(process_vm_readv) ? live->process_vm_readv : get_process_vm_readv();
	return call(pid, local, nlocal, remote, nremote, flags);
}

ssize_t process_vm_writev(pid_t pid, const struct iovec *local, unsigned long nlocal,
			  const struct iovec *remote, unsigned long nremote, unsigned long flags)
{
	vm_call *call = HOOK(process_vm_writev) ? live->process_vm_writev : get_process_vm_writev();
	return call(pid, local, nlocal, remote, nremote, flags);
}

int kill(pid_t pid, int sig)
{
	uintptr_t caller = CALLER;
	if (HOOK(kill) && from_main(caller))
		return live->kill(pid, sig);
	return get_kill()(pid, sig);
}

int sigqueue(pid_t pid, int sig, const union sigval value)
{
	return HOOK(sigqueue) ? live->sigqueue(pid, sig, value) : get_sigqueue()(pid, sig, value);
}

int sigtimedwait(const sigset_t *set, siginfo_t *info, const struct timespec *timeout)
{
	return HOOK(sigtimedwait) ? live->sigtimedwait(set, info, timeout)
				  : get_sigtimedwait()(set, info, timeout);
}

ssize_t send(int fd, const void *buf, size_t len, int flags)
{
	return HOOK(send) ? live->send(fd, buf, len, flags) : get_send()(fd, buf, len, flags);
}

ssize_t recv(int fd, void *buf, size_t len, int flags)
{
	return HOOK(recv) ? live->recv(fd, buf, len, flags) : get_recv()(fd, buf, len, flags);
}

int msgsnd(int id, const void *msg, size_t size, int flags)
{
	uintptr_t caller = CALLER;
	if (HOOK(msgsnd) && from_main(caller))
		return live->msgsnd(id, msg, size, flags);
	return get_msgsnd()(id, msg, size, flags);
}

int shm_open(const char *name, int flags, mode_t mode)
{
	uintptr_t caller = CALLER;
	if (HOOK(shm_open) && from_main(caller))
		return live->shm_open(name, flags, mode);
	return get_shm_open()(name, flags, mode);
}
