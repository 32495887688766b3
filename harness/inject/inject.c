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
 * The fault table (name, claims, scope, what it does) is the declaration
 * prove reads, through ipcproof_inject_faults().
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

/* ---- the faults ---------------------------------------------------------- */

enum scope { CASES, PEER_PIPE, PEER_FIFO, PEER_MMAP, PEER_IPC };

struct fault {
	const char *name;
	const char *claims;	/* comma-separated claim ids it breaks */
	enum scope scope;
	const char *what;
};

enum {
	PIPE_NOT_A_FIFO, PIPE_ENDS_READ_WRITE, PIPE_FDS_NOT_LOWEST, PIPE_PROC_FD_REFUSED,
	PIPE_TWO_WAY, PIPE_SHARED_AFTER_FORK, PIPE_READ_WAITS_FOR_FULL_COUNT, PIPE_NONBLOCK_EOF_IS_EAGAIN,
	PIPE_READ_POLLS,
	PIPE_EPIPE_WITHOUT_SIGPIPE, PIPE_WRITE_POLLS, PIPE_SHORT_WRITES, PIPE_HOLDS_2_PAGES,
	PIPE_BUF_IS_CAPACITY, PIPE_WRITES_NOT_ATOMIC, PIPE_SETSZ_NOT_ROUNDED, PIPE_DUP2_IGNORED,
	FIFO_REORDERS_BYTES, FIFO_MKFIFO_REPLACES, FIFO_STAT_COUNTS_QUEUED,
	FIFO_NONBLOCK_EOF_IS_EAGAIN, FIFO_LSEEK_SUCCEEDS, FIFO_SIZE_PER_OPEN,
	FIFO_PATH_REFUSED_TO_STRANGERS, FIFO_SHORT_READ_DROPS_REST, FIFO_WRITES_NOT_ATOMIC,
	FIFO_WRITE_OPEN_DOES_NOT_WAIT, FIFO_NONBLOCK_WRITE_OPEN_SUCCEEDS,
	MUNMAP_UNALIGNED_SUCCEEDS, MMAP_UNALIGNED_OFFSET, MUNMAP_PARTIAL_PAGE_KEPT,
	MMAP_PRIVATE_SNAPSHOT, MMAP_FAILURE_IS_NULL, MMAP_SHARED_ANON_PRIVATE,
	MMAP_PRIVATE_WRITTEN_BACK, MMAP_IGNORES_OFFSET,
	MUNMAP_BEYOND_USER_SPACE_SUCCEEDS, MMAP_DROPPED_ON_CLOSE, PEER_MMAP_PRIVATE,
	MMAP_TAIL_NOT_ZEROED, MMAP_NO_SIGBUS_PAST_EOF, MAPPING_END_STAYS_READABLE,
	MMAP_EMPTY_FILE_ZERO_PAGES, SIGBUS_REPORTED_AS_ALIGNMENT, MMAP_LENGTH_ZERO_ACCEPTED,
	TRUNCATE_BY_PATH_IGNORED, MAPPING_SIZE_FIXED_AT_MMAP, MMAP_WRONLY_ACCEPTED,
	MPROTECT_RDONLY_SHARED_WRITABLE, MMAP_RDONLY_PRIVATE_WRITE_REFUSED, MMAP_FIFO_EACCES,
	SEGV_AT_MINUS_ONE_IS_ACCERR, MMAP_PROT_READ_WRITABLE, MMAP_HINT_REPLACES,
	CLONE_VM_IGNORED, PROCESS_VM_REFUSED, KILL_IS_SIGQUEUE, SIGQUEUE_VALUE_TRUNCATED,
	STANDARD_SIGNAL_QUEUED, REALTIME_SIGNAL_MERGED, DGRAM_SEND_POLLS, SEQPACKET_MERGES_MESSAGES,
	STREAM_SOCKET_HALF_DUPLEX,
	SYSV_MSGSND_REFUSED, POSIX_SHM_BY_NAME_REFUSED, PEER_IPC_FIFO_REFUSED, PEER_IPC_MMAP_PRIVATE,
	NFAULTS
};

static const struct fault faults[NFAULTS] = {
	[PIPE_NOT_A_FIFO] = { "pipe-not-a-fifo", "pipe.nature.pseudo-file", CASES,
		"fstat of a pipe end reports a regular file, not S_IFIFO" },
	[PIPE_ENDS_READ_WRITE] = { "pipe-ends-read-write", "pipe.create.two-descriptors", CASES,
		"F_GETFL reports both pipe ends open O_RDWR" },
	[PIPE_FDS_NOT_LOWEST] = { "pipe-fds-not-lowest", "pipe.create.fds-3-and-4", CASES,
		"pipe() hands out descriptors from 20 up instead of the lowest free ones" },
	[PIPE_PROC_FD_REFUSED] = { "pipe-proc-fd-refused", "pipe.users.related-only", PEER_PIPE,
		"an unrelated program cannot open a pipe through /proc/PID/fd/N (EACCES)" },
	[PIPE_TWO_WAY] = { "pipe-two-way", "pipe.direction.half-duplex", CASES,
		"writing the read end of a pipe succeeds instead of failing with EBADF" },
	[PIPE_SHARED_AFTER_FORK] = { "pipe-shared-after-fork", "pipe.flow.create-then-fork", CASES,
		"a forked child finds every descriptor number open (F_GETFD), so a pipe made after fork seems shared" },
	[PIPE_READ_WAITS_FOR_FULL_COUNT] = { "pipe-read-waits-for-full-count", "pipe.read.data-present", CASES,
		"a blocking pipe read waits until the whole count is there (or end of file)" },
	[PIPE_NONBLOCK_EOF_IS_EAGAIN] = { "pipe-nonblock-eof-is-eagain", "pipe.read.eof-after-writers-close", CASES,
		"a non-blocking pipe read at end of file fails with EAGAIN instead of returning 0" },
	[PIPE_READ_POLLS] = { "pipe-read-polls", "pipe.read.blocks-while-writer-open", CASES,
		"a blocking read of an empty pipe polls in user space instead of sleeping in read" },
	[PIPE_EPIPE_WITHOUT_SIGPIPE] = { "pipe-epipe-without-sigpipe", "pipe.write.no-readers-sigpipe", CASES,
		"a write to a reader-less pipe fails with EPIPE without raising SIGPIPE" },
	[PIPE_WRITE_POLLS] = { "pipe-write-polls", "pipe.write.full-blocks", CASES,
		"a blocking write to a full pipe polls in user space instead of sleeping in write" },
	[PIPE_SHORT_WRITES] = { "pipe-short-writes", "pipe.write.room-continues", CASES,
		"a blocking pipe write of 2 to PIPE_BUF-1 bytes queues only half of them" },
	[PIPE_HOLDS_2_PAGES] = { "pipe-holds-2-pages", "pipe.capacity.default-65536", CASES,
		"new pipes hold 2 pages (F_GETPIPE_SZ and a fill both say 8192)" },
	[PIPE_BUF_IS_CAPACITY] = { "pipe-buf-is-capacity", "pipe.capacity.ulimit-is-pipe-buf", CASES,
		"fpathconf(_PC_PIPE_BUF) of a pipe reports the capacity, 65536" },
	[PIPE_WRITES_NOT_ATOMIC] = { "pipe-writes-not-atomic", "pipe.capacity.ulimit-is-pipe-buf", CASES,
		"pipe writes of at most PIPE_BUF bytes go in two halves, so writers interleave" },
	[PIPE_SETSZ_NOT_ROUNDED] = { "pipe-setsz-not-rounded", "pipe.capacity.adjustable", CASES,
		"F_SETPIPE_SZ returns the size asked for, not the power-of-two pages it set" },
	[PIPE_DUP2_IGNORED] = { "pipe-dup2-ignored", "pipe.exercise.ps-aux-grep-bash", CASES,
		"dup2 of a pipe end onto 0, 1 or 2 returns success and does nothing" },
	[FIFO_REORDERS_BYTES] = { "fifo-reorders-bytes", "fifo.order.first-in-first-out", CASES,
		"a FIFO read of more than 1024 bytes returns its first two 4-byte words swapped" },
	[FIFO_MKFIFO_REPLACES] = { "fifo-mkfifo-replaces", "fifo.create.mkfifo", CASES,
		"mkfifo on an existing path replaces it instead of failing with EEXIST" },
	[FIFO_STAT_COUNTS_QUEUED] = { "fifo-stat-counts-queued", "fifo.mechanism.file-names-a-kernel-buffer", CASES,
		"stat of a FIFO reports the bytes queued in it as st_size" },
	[FIFO_NONBLOCK_EOF_IS_EAGAIN] = { "fifo-nonblock-eof-is-eagain", "fifo.open.read-side,pipe.read.eof-after-writers-close", CASES,
		"a non-blocking FIFO read with no writer fails with EAGAIN instead of returning 0" },
	[FIFO_LSEEK_SUCCEEDS] = { "fifo-lseek-succeeds", "fifo.io.pipe-semantics", CASES,
		"lseek on a FIFO descriptor returns 0 instead of failing with ESPIPE" },
	[FIFO_SIZE_PER_OPEN] = { "fifo-size-per-open", "fifo.shared.one-buffer-while-open", CASES,
		"F_GETPIPE_SZ through a FIFO open reports the default size, whatever another open set" },
	[FIFO_PATH_REFUSED_TO_STRANGERS] = { "fifo-path-refused-to-strangers", "fifo.users.unrelated-through-path", PEER_FIFO,
		"an unrelated program cannot open the FIFO by its path (EACCES)" },
	[FIFO_SHORT_READ_DROPS_REST] = { "fifo-short-read-drops-rest", "fifo.readers.unaddressed", CASES,
		"a FIFO read asking for less than is queued takes it all and discards the rest" },
	[FIFO_WRITES_NOT_ATOMIC] = { "fifo-writes-not-atomic", "fifo.users.only-two,pipe.capacity.ulimit-is-pipe-buf", CASES,
		"FIFO writes of at most PIPE_BUF bytes go in two halves, so writers interleave" },
	[FIFO_WRITE_OPEN_DOES_NOT_WAIT] = { "fifo-write-open-does-not-wait", "fifo.open.writer-waits-for-reader", CASES,
		"a blocking O_WRONLY open of a FIFO with no reader returns at once (opened O_RDWR)" },
	[FIFO_NONBLOCK_WRITE_OPEN_SUCCEEDS] = { "fifo-nonblock-write-open-succeeds", "fifo.open.writer-waits-for-reader", CASES,
		"an O_WRONLY|O_NONBLOCK open of a FIFO with no reader succeeds instead of ENXIO" },
	[MUNMAP_UNALIGNED_SUCCEEDS] = { "munmap-unaligned-succeeds", "mmap.munmap.moved-pointer", CASES,
		"munmap of an address that is not page-aligned returns 0 (and unmaps nothing)" },
	[MMAP_UNALIGNED_OFFSET] = { "mmap-unaligned-offset", "mmap.offset.page-multiple", CASES,
		"mmap accepts an offset that is not a page multiple" },
	[MUNMAP_PARTIAL_PAGE_KEPT] = { "munmap-partial-page-kept", "mmap.length.whole-pages", CASES,
		"munmap does not round its length up: a partial last page stays mapped" },
	[MMAP_PRIVATE_SNAPSHOT] = { "mmap-private-snapshot", "mmap.private.copy-per-page", CASES,
		"a MAP_PRIVATE file mapping is copied whole at mmap, not page by page on write" },
	/* Both claims check this very call, fd -1 failing with EBADF. */
	[MMAP_FAILURE_IS_NULL] = { "mmap-failure-is-null", "mmap.return.map-failed,mmap.errors.many", CASES,
		"mmap of fd -1 without MAP_ANONYMOUS returns NULL instead of MAP_FAILED" },
	/* Both claims' truths say a MAP_SHARED mapping made before fork carries
	 * data between the processes. */
	[MMAP_SHARED_ANON_PRIVATE] = { "mmap-shared-anon-private", "mmap.ipc.related,ipc.kernel.required", CASES,
		"MAP_SHARED|MAP_ANONYMOUS mappings are private: a fork's writes are not shared" },
	[MMAP_PRIVATE_WRITTEN_BACK] = { "mmap-private-written-back", "mmap.private.writes-stay-private", CASES,
		"munmap of a MAP_PRIVATE mapping of an O_RDWR fd writes its pages to the file" },
	[MMAP_PROT_READ_WRITABLE] = { "mmap-prot-read-writable", "mmap.prot.read-write", CASES,
		"a PROT_READ shared mapping of a read-write file is writable" },
	[MMAP_HINT_REPLACES] = { "mmap-hint-replaces", "mmap.addr.null", CASES,
		"a non-NULL addr without MAP_FIXED is taken as MAP_FIXED, replacing what is there" },
	[MMAP_IGNORES_OFFSET] = { "mmap-ignores-offset", "mmap.return.address", CASES,
		"mmap of a file at a page-multiple offset inside it maps from the file's start" },
	[MUNMAP_BEYOND_USER_SPACE_SUCCEEDS] = { "munmap-beyond-user-space-succeeds", "mmap.return.munmap", CASES,
		"munmap of a range beyond the user address space returns 0 instead of -1" },
	[MMAP_DROPPED_ON_CLOSE] = { "mmap-dropped-on-close", "mmap.fd.close-after-mmap", CASES,
		"closing the fd turns its shared file mappings into detached anonymous copies" },
	[PEER_MMAP_PRIVATE] = { "peer-mmap-private", "mmap.ipc.unrelated", PEER_MMAP,
		"an unrelated program's MAP_SHARED mapping of the file is private" },
	[MMAP_TAIL_NOT_ZEROED] = { "mmap-tail-not-zeroed", "mmap.bounds.tail-of-last-page", CASES,
		"the bytes past EOF in the page holding EOF read as 'Z', not zero" },
	[MMAP_NO_SIGBUS_PAST_EOF] = { "mmap-no-sigbus-past-eof", "mmap.bounds.pages-past-eof", CASES,
		"pages wholly past EOF of a non-empty file read as zeros instead of raising SIGBUS" },
	[MAPPING_END_STAYS_READABLE] = { "mapping-end-stays-readable", "mmap.bounds.past-the-mapping", CASES,
		"munmap of the pages right after a file mapping leaves zero pages there" },
	/* Both claims' truths include the SIGBUS at offset 0 of a writable
	 * mapping of an empty file. */
	[MMAP_EMPTY_FILE_ZERO_PAGES] = { "mmap-empty-file-zero-pages", "mmap.empty-file.access-sigbus,mmap.empty-file.extend-later", CASES,
		"a writable mapping of an empty file is anonymous zero pages: no SIGBUS" },
	[SIGBUS_REPORTED_AS_ALIGNMENT] = { "sigbus-reported-as-alignment", "mmap.empty-file.not-alignment", CASES,
		"the SIGBUS of a mapping of an empty file comes with si_code BUS_ADRALN" },
	[MMAP_LENGTH_ZERO_ACCEPTED] = { "mmap-length-zero-accepted", "mmap.empty-file.length-zero", CASES,
		"mmap with length 0 maps one page instead of failing with EINVAL" },
	[TRUNCATE_BY_PATH_IGNORED] = { "truncate-by-path-ignored", "mmap.empty-file.extend-first", CASES,
		"truncate(path, n) returns 0 and leaves the file as it was" },
	[MAPPING_SIZE_FIXED_AT_MMAP] = { "mapping-size-fixed-at-mmap", "mmap.empty-file.extend-later", CASES,
		"pages past EOF at mmap time stay unusable after ftruncate extends the file" },
	[MMAP_WRONLY_ACCEPTED] = { "mmap-wronly-accepted", "mmap.perms.wronly", CASES,
		"mmap of an O_WRONLY descriptor succeeds (mapped through a fresh O_RDWR open)" },
	[MPROTECT_RDONLY_SHARED_WRITABLE] = { "mprotect-rdonly-shared-writable", "mmap.perms.rdonly-shared-write", CASES,
		"mprotect can add PROT_WRITE to a shared mapping of an O_RDONLY fd" },
	[MMAP_RDONLY_PRIVATE_WRITE_REFUSED] = { "mmap-rdonly-private-write-refused", "mmap.perms.at-most-open", CASES,
		"a writable MAP_PRIVATE mapping of an O_RDONLY fd fails with EACCES" },
	[MMAP_FIFO_EACCES] = { "mmap-fifo-eacces", "mmap.errors.many", CASES,
		"mmap of a FIFO fails with EACCES instead of ENODEV" },
	[SEGV_AT_MINUS_ONE_IS_ACCERR] = { "segv-at-minus-one-is-accerr", "mmap.errors.unchecked-result", CASES,
		"a SIGSEGV at an address beyond user space comes with si_code SEGV_ACCERR" },
	[CLONE_VM_IGNORED] = { "clone-vm-ignored", "ipc.address-space.every-process", CASES,
		"clone(2) drops CLONE_VM: the clone gets a copy of the address space" },
	[PROCESS_VM_REFUSED] = { "process-vm-refused", "ipc.address-space.no-access", CASES,
		"process_vm_readv and process_vm_writev fail with EPERM" },
	[KILL_IS_SIGQUEUE] = { "kill-is-sigqueue", "ipc.signal.standard-siginfo", CASES,
		"kill(2) of a process with a catchable signal arrives as SI_QUEUE, not SI_USER" },
	[SIGQUEUE_VALUE_TRUNCATED] = { "sigqueue-value-truncated", "ipc.signal.sigqueue-value", CASES,
		"sigqueue carries only the low 32 bits of its value" },
	[STANDARD_SIGNAL_QUEUED] = { "standard-signal-queued", "ipc.signal.standard-not-queued", CASES,
		"a standard signal taken with sigtimedwait is taken a second time" },
	[REALTIME_SIGNAL_MERGED] = { "realtime-signal-merged", "ipc.signal.realtime-queued", CASES,
		"a second pending instance of a real-time signal is dropped by sigtimedwait" },
	[DGRAM_SEND_POLLS] = { "dgram-send-polls", "ipc.socket.most-stable", CASES,
		"a blocking datagram send to a full receiver polls in user space instead of sleeping in sendto" },
	[SEQPACKET_MERGES_MESSAGES] = { "seqpacket-merges-messages", "ipc.socket.message-boundaries", CASES,
		"a SOCK_SEQPACKET receive with room appends the next queued message" },
	[STREAM_SOCKET_HALF_DUPLEX] = { "stream-socket-half-duplex", "ipc.socket.full-duplex", CASES,
		"a send on a stream socket with bytes waiting to be received fails with EAGAIN" },
	[SYSV_MSGSND_REFUSED] = { "sysv-msgsnd-refused", "ipc.methods.message-queue", CASES,
		"msgsnd fails with EACCES" },
	[POSIX_SHM_BY_NAME_REFUSED] = { "posix-shm-by-name-refused", "ipc.methods.shared-memory", CASES,
		"shm_open of an existing object by name (no O_CREAT) fails with ENOENT" },
	[PEER_IPC_FIFO_REFUSED] = { "peer-ipc-fifo-refused", "ipc.overview.fifo-unrelated", PEER_IPC,
		"separately started programs cannot open a FIFO by its path (EACCES)" },
	[PEER_IPC_MMAP_PRIVATE] = { "peer-ipc-mmap-private", "ipc.overview.mmap-unrelated", PEER_IPC,
		"separately started programs' MAP_SHARED file mappings are private" },
};

/* The declaration prove reads: one fault a line, name TAB claims TAB what. */
const char *ipcproof_inject_faults(void);
const char *ipcproof_inject_faults(void)
{
	static char table[16384];
	size_t used = 0;
	for (int i = 0; i < NFAULTS && used < sizeof table; i++)
		used += (size_t)snprintf(table + used, sizeof table - used, "%s\t%s\t%s\n",
					 faults[i].name, faults[i].claims, faults[i].what);
	return table;
}

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

/* ---- where the fault is live --------------------------------------------- */

static int fault = -1;		/* the live fault here, or -1 */
static uintptr_t main_lo, main_hi;	/* the case binary's own code */
static long page;

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
	for (int i = 0; i < NFAULTS; i++)
		if (strcmp(faults[i].name, name) == 0 && scope_matches(faults[i].scope, base))
			fault = i;
	if (fault >= 0)
		dl_iterate_phdr(find_main, NULL);
}

#define CALLER ((uintptr_t)__builtin_return_address(0))
static bool from_main(uintptr_t caller)
{
	return caller >= main_lo && caller < main_hi;
}

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

/* ---- pipes ---------------------------------------------------------------- */

static void made_pipe(int fds[2], int flags)
{
	if (flags & O_CLOEXEC)
		return;
	if (fault == PIPE_FDS_NOT_LOWEST)
		for (int i = 0; i < 2; i++) {
			int moved = get_fcntl()(fds[i], F_DUPFD, 20);
			if (moved >= 0) {
				get_close()(fds[i]);
				fds[i] = moved;
			}
		}
	if (fault == PIPE_HOLDS_2_PAGES)
		get_fcntl()(fds[1], F_SETPIPE_SZ, (int)(2 * page));
	for (int i = 0; i < 2; i++)
		if (fds[i] < MAX_FD)
			case_pipe[fds[i]] = 1;
}

int pipe(int fds[2])
{
	uintptr_t caller = CALLER;
	int r = get_pipe()(fds);
	if (r == 0 && fault >= 0 && from_main(caller))
		made_pipe(fds, 0);
	return r;
}

int pipe2(int fds[2], int flags)
{
	uintptr_t caller = CALLER;
	int r = get_pipe2()(fds, flags);
	if (r == 0 && fault >= 0 && from_main(caller))
		made_pipe(fds, flags);
	return r;
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

/* A write of at most PIPE_BUF bytes in two halves, a pause between. */
static ssize_t split_write(int fd, const void *buf, size_t count)
{
	size_t half = count / 2;
	ssize_t first = get_write()(fd, buf, half);
	if (first < (ssize_t)half)
		return first;
	sched_yield();
	pause_briefly(20000);
	ssize_t second = get_write()(fd, (const char *)buf + half, count - half);
	return second < 0 ? first : first + second;
}

static ssize_t fifo_read(int fd, void *buf, size_t count)
{
	if (fault == FIFO_SHORT_READ_DROPS_REST && count < PIPE_BUF) {
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
	ssize_t n = get_read()(fd, buf, count);
	/* Large reads only: the other FIFO cases read in pieces of at most
	 * 1000 bytes and check what a reader gets, not the stream's order. */
	if (fault == FIFO_REORDERS_BYTES && n > 1024) {
		char word[4];
		memcpy(word, buf, 4);
		memmove(buf, (char *)buf + 4, 4);
		memcpy((char *)buf + 4, word, 4);
	}
	if (fault == FIFO_NONBLOCK_EOF_IS_EAGAIN && n == 0 && count > 0 && nonblocking(fd)) {
		errno = EAGAIN;
		return -1;
	}
	return n;
}

ssize_t read(int fd, void *buf, size_t count)
{
	if (fault < 0)
		return get_read()(fd, buf, count);
	switch (fault) {
	case PIPE_READ_WAITS_FOR_FULL_COUNT:
		if (is_case_pipe(fd) && !nonblocking(fd)) {
			size_t done = 0;
			while (done < count) {
				ssize_t n = get_read()(fd, (char *)buf + done, count - done);
				if (n <= 0)
					return done ? (ssize_t)done : n;
				done += (size_t)n;
			}
			return (ssize_t)done;
		}
		break;
	case PIPE_NONBLOCK_EOF_IS_EAGAIN:
		if (is_case_pipe(fd) && nonblocking(fd)) {
			ssize_t n = get_read()(fd, buf, count);
			if (n == 0 && count > 0) {
				errno = EAGAIN;
				return -1;
			}
			return n;
		}
		break;
	case PIPE_READ_POLLS:
		if (is_case_pipe(fd) && !nonblocking(fd) && access_mode(fd) == O_RDONLY)
			wait_in_user_space(fd, POLLIN);
		break;
	case FIFO_REORDERS_BYTES:
	case FIFO_NONBLOCK_EOF_IS_EAGAIN:
	case FIFO_SHORT_READ_DROPS_REST:
		if (is_named_fifo(fd))
			return fifo_read(fd, buf, count);
		break;
	}
	return get_read()(fd, buf, count);
}

static ssize_t write_without_sigpipe(int fd, const void *buf, size_t count)
{
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

ssize_t write(int fd, const void *buf, size_t count)
{
	if (fault < 0)
		return get_write()(fd, buf, count);
	switch (fault) {
	case PIPE_TWO_WAY:
		if (is_case_pipe(fd)) {
			ssize_t n = get_write()(fd, buf, count);
			if (n == -1 && errno == EBADF)
				return (ssize_t)count;
			return n;
		}
		break;
	case PIPE_EPIPE_WITHOUT_SIGPIPE:
		if (is_case_pipe(fd))
			return write_without_sigpipe(fd, buf, count);
		break;
	case PIPE_WRITE_POLLS:
		if (is_case_pipe(fd) && !nonblocking(fd) && access_mode(fd) == O_WRONLY)
			wait_in_user_space(fd, POLLOUT);
		break;
	case PIPE_SHORT_WRITES:
		if (count > 1 && count < PIPE_BUF && is_case_pipe(fd) && !nonblocking(fd))
			return get_write()(fd, buf, count / 2);
		break;
	case PIPE_WRITES_NOT_ATOMIC:
		if (count > 1 && count <= PIPE_BUF && is_case_pipe(fd) && !nonblocking(fd))
			return split_write(fd, buf, count);
		break;
	case FIFO_WRITES_NOT_ATOMIC:
		if (count > 1 && count <= PIPE_BUF && is_named_fifo(fd) && !nonblocking(fd))
			return split_write(fd, buf, count);
		break;
	}
	return get_write()(fd, buf, count);
}

long fpathconf(int fd, int name)
{
	if (fault == PIPE_BUF_IS_CAPACITY && name == _PC_PIPE_BUF && is_case_pipe(fd))
		return 16 * page;
	return get_fpathconf()(fd, name);
}

int dup2(int oldfd, int newfd)
{
	if (fault == PIPE_DUP2_IGNORED && newfd >= 0 && newfd <= 2 && is_case_pipe(oldfd))
		return newfd;
	int r = get_dup2()(oldfd, newfd);
	if (r >= 0 && newfd < MAX_FD && newfd != oldfd)
		case_pipe[newfd] = 0;
	return r;
}

int fstat(int fd, struct stat *st)
{
	int r = get_fstat()(fd, st);
	if (r == 0 && fault == PIPE_NOT_A_FIFO && is_case_pipe(fd))
		st->st_mode = (st->st_mode & ~(mode_t)S_IFMT) | S_IFREG;
	return r;
}

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

/* Dirties every page that holds file bytes, so each is the process's own
 * copy from now on (pages past EOF would raise SIGBUS: left alone). */
static void copy_now(char *addr, size_t len, int prot, off_t off, off_t size)
{
	if (size <= off)
		return;
	size_t in_file = round_up((size_t)(size - off));
	if (in_file > len)
		in_file = round_up(len);
	if (!(prot & PROT_WRITE))
		get_mprotect()(addr, in_file, PROT_READ | PROT_WRITE);
	for (size_t at = 0; at < in_file; at += (size_t)page) {
		volatile char *c = addr + at;
		*c = *c;
	}
	if (!(prot & PROT_WRITE))
		get_mprotect()(addr, in_file, prot);
}

/* Writes 'Z' into the page cache past EOF through a mapping of our own:
 * the case's mapping of that page then shows it. */
static void soil_tail(int fd, off_t size)
{
	if (size % page == 0)
		return;
	int rw = reopen_read_write(fd);
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

static void *mmap_file(void *addr, size_t len, int prot, int flags, int fd, off_t off,
		       const struct stat *st)
{
	int type = flags & MAP_SHARED_VALIDATE;
	bool regular = S_ISREG(st->st_mode);
	switch (fault) {
	case MMAP_UNALIGNED_OFFSET:
		if (off % page) {
			off_t delta = off % page;
			char *m = get_mmap()(addr, len + (size_t)delta, prot, flags, fd, off - delta);
			return m == MAP_FAILED ? m : m + delta;
		}
		break;
	case MMAP_PROT_READ_WRITABLE:
		if (regular && type == MAP_SHARED && prot == PROT_READ && access_mode(fd) == O_RDWR)
			prot |= PROT_WRITE;
		break;
	case MMAP_HINT_REPLACES:
		if (addr && !(flags & (MAP_FIXED | MAP_FIXED_NOREPLACE)))
			flags |= MAP_FIXED;
		break;
	case MMAP_IGNORES_OFFSET:
		/* Only offsets the kernel accepts: refusals are other claims. */
		if (regular && off > 0 && off % page == 0 && off < st->st_size)
			off = 0;
		break;
	case MMAP_EMPTY_FILE_ZERO_PAGES:
		if (regular && st->st_size == 0 && len > 0 && (prot & PROT_WRITE))
			return get_mmap()(addr, len, prot, (flags & MAP_FIXED) | MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		break;
	case MMAP_WRONLY_ACCEPTED:
		if (regular && access_mode(fd) == O_WRONLY) {
			int rw = reopen_read_write(fd);
			if (rw >= 0) {
				void *m = get_mmap()(addr, len, prot, flags, rw, off);
				get_close()(rw);
				return m;
			}
		}
		break;
	case MMAP_RDONLY_PRIVATE_WRITE_REFUSED:
		if (type == MAP_PRIVATE && (prot & PROT_WRITE) && access_mode(fd) == O_RDONLY) {
			errno = EACCES;
			return MAP_FAILED;
		}
		break;
	case MMAP_FIFO_EACCES:
		if (S_ISFIFO(st->st_mode)) {
			void *m = get_mmap()(addr, len, prot, flags, fd, off);
			if (m == MAP_FAILED && errno == ENODEV)
				errno = EACCES;
			return m;
		}
		break;
	}
	char *m = get_mmap()(addr, len, prot, flags, fd, off);
	if (m == MAP_FAILED || !regular)
		return m;
	remember(m, len, fd, off, prot, flags, st);
	switch (fault) {
	case MMAP_PRIVATE_SNAPSHOT:
		if (type == MAP_PRIVATE)
			copy_now(m, len, prot, off, st->st_size);
		break;
	case MMAP_TAIL_NOT_ZEROED:
		if (st->st_size > off && (size_t)(st->st_size - off) < round_up(len))
			soil_tail(fd, st->st_size);
		break;
	case MMAP_NO_SIGBUS_PAST_EOF:
		if (st->st_size > off) {
			size_t usable = round_up((size_t)(st->st_size - off));
			if (usable < round_up(len))
				get_mmap()(m + usable, round_up(len) - usable, prot,
					   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
		}
		break;
	}
	return m;
}

void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	uintptr_t caller = CALLER;
	if (fault < 0 || !from_main(caller))
		return get_mmap()(addr, len, prot, flags, fd, off);
	if ((fault == PEER_MMAP_PRIVATE || fault == PEER_IPC_MMAP_PRIVATE) &&
	    (flags & MAP_SHARED_VALIDATE) == MAP_SHARED)
		flags = (flags & ~MAP_SHARED_VALIDATE) | MAP_PRIVATE;
	if (fault == MMAP_LENGTH_ZERO_ACCEPTED && len == 0)
		len = (size_t)page;
	if (flags & MAP_ANONYMOUS) {
		if (fault == MMAP_SHARED_ANON_PRIVATE && (flags & MAP_SHARED_VALIDATE) == MAP_SHARED)
			flags = (flags & ~MAP_SHARED_VALIDATE) | MAP_PRIVATE;
		return get_mmap()(addr, len, prot, flags, fd, off);
	}
	if (fd == -1) {
		void *m = get_mmap()(addr, len, prot, flags, fd, off);
		return fault == MMAP_FAILURE_IS_NULL && m == MAP_FAILED ? NULL : m;
	}
	struct stat st;
	if (get_fstat()(fd, &st) != 0)
		return get_mmap()(addr, len, prot, flags, fd, off);
	return mmap_file(addr, len, prot, flags, fd, off, &st);
}

/* What a MAP_PRIVATE mapping shows of [addr, addr+len), put in its file. */
static void write_back(const char *addr, size_t len)
{
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
}

/* The tracked file mapping that ends exactly at addr, if any. */
static bool ends_at(const char *addr)
{
	for (int i = 0; i < MAX_MAPPINGS; i++)
		if (maps[i].addr && maps[i].addr + round_up(maps[i].len) == addr)
			return true;
	return false;
}

int munmap(void *addr, size_t len)
{
	uintptr_t caller = CALLER;
	if (fault < 0 || !from_main(caller))
		return get_munmap()(addr, len);
	if (fault == MUNMAP_UNALIGNED_SUCCEEDS && (uintptr_t)addr % (uintptr_t)page)
		return 0;
	if (fault == MUNMAP_PARTIAL_PAGE_KEPT && len % (size_t)page) {
		len = len / (size_t)page * (size_t)page;
		if (len == 0)
			return 0;
	}
	/* x86-64's user space ends at 2^47. */
	if (fault == MUNMAP_BEYOND_USER_SPACE_SUCCEEDS && (uintptr_t)addr >= ((uintptr_t)1 << 47))
		return 0;
	if (fault == MAPPING_END_STAYS_READABLE && len && ends_at(addr)) {
		void *z = get_mmap()(addr, round_up(len), PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
		return z == MAP_FAILED ? -1 : 0;
	}
	if (fault == MMAP_PRIVATE_WRITTEN_BACK)
		write_back(addr, len);
	int r = get_munmap()(addr, len);
	if (r == 0)
		forget(addr, len);
	return r;
}

int mprotect(void *addr, size_t len, int prot)
{
	int r = get_mprotect()(addr, len, prot);
	if (r == -1 && errno == EACCES && fault == MPROTECT_RDONLY_SHARED_WRITABLE && (prot & PROT_WRITE)) {
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
	return r;
}

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

static bool in_case_child;	/* forked by the case binary (hx_fork) */

pid_t fork(void)
{
	uintptr_t caller = CALLER;
	pid_t pid = get_fork()();
	if (pid == 0 && fault >= 0 && from_main(caller))
		in_case_child = true;
	return pid;
}

int close(int fd)
{
	if (fd >= 0 && fd < MAX_FD)
		case_pipe[fd] = 0;
	if (fault == MMAP_DROPPED_ON_CLOSE)
		for (int i = 0; i < MAX_MAPPINGS; i++) {
			struct mapping *m = &maps[i];
			if (m->fd == fd && detachable(m)) {
				detach(m->addr, round_up(m->len), m->prot);
				m->fd = -1;
			}
		}
	return get_close()(fd);
}

int ftruncate(int fd, off_t length)
{
	struct stat before;
	bool known = fault == MAPPING_SIZE_FIXED_AT_MMAP && get_fstat()(fd, &before) == 0;
	int r = get_ftruncate()(fd, length);
	if (r == 0 && known && length > before.st_size)
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

int truncate(const char *path, off_t length)
{
	uintptr_t caller = CALLER;
	if (fault == TRUNCATE_BY_PATH_IGNORED && from_main(caller))
		return 0;
	return get_truncate()(path, length);
}

/* ---- fault reports -------------------------------------------------------- */

static struct sigaction user_bus, user_segv;

static void relay(int sig, siginfo_t *si, void *ctx)
{
	struct sigaction *user = sig == SIGBUS ? &user_bus : &user_segv;
	if (fault == SIGBUS_REPORTED_AS_ALIGNMENT && sig == SIGBUS && si->si_code == BUS_ADRERR) {
		struct mapping *m = mapping_at(si->si_addr);
		if (m && m->size_at_mmap == 0)
			si->si_code = BUS_ADRALN;
	}
	if (fault == SEGV_AT_MINUS_ONE_IS_ACCERR && sig == SIGSEGV &&
	    (uintptr_t)si->si_addr >= ((uintptr_t)1 << 47))
		si->si_code = SEGV_ACCERR;
	if (user->sa_flags & SA_SIGINFO)
		user->sa_sigaction(sig, si, ctx);
	else if (user->sa_handler != SIG_DFL && user->sa_handler != SIG_IGN)
		user->sa_handler(sig);
}

int sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
	bool mine = act && (act->sa_flags & SA_SIGINFO) &&
		    ((fault == SIGBUS_REPORTED_AS_ALIGNMENT && sig == SIGBUS) ||
		     (fault == SEGV_AT_MINUS_ONE_IS_ACCERR && sig == SIGSEGV));
	if (!mine)
		return get_sigaction()(sig, act, old);
	struct sigaction relayed = *act;
	*(sig == SIGBUS ? &user_bus : &user_segv) = *act;
	relayed.sa_sigaction = relay;
	return get_sigaction()(sig, &relayed, old);
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
	if (fault < 0)
		return get_open()(path, flags, mode);
	int how = flags & O_ACCMODE;
	switch (fault) {
	case PIPE_PROC_FD_REFUSED:
		if (strncmp(path, "/proc/", 6) == 0 && path_is_fifo(path)) {
			errno = EACCES;
			return -1;
		}
		break;
	case FIFO_PATH_REFUSED_TO_STRANGERS:
	case PEER_IPC_FIFO_REFUSED:
		if (path_is_fifo(path)) {
			errno = EACCES;
			return -1;
		}
		break;
	case FIFO_WRITE_OPEN_DOES_NOT_WAIT:
		if (how == O_WRONLY && !(flags & O_NONBLOCK) && path_is_fifo(path)) {
			int fd = get_open()(path, flags | O_NONBLOCK, mode);
			if (fd >= 0) {
				get_fcntl()(fd, F_SETFL, get_fcntl()(fd, F_GETFL) & ~O_NONBLOCK);
				return fd;
			}
			if (errno == ENXIO)
				return get_open()(path, (flags & ~O_ACCMODE) | O_RDWR, mode);
			return -1;
		}
		break;
	case FIFO_NONBLOCK_WRITE_OPEN_SUCCEEDS:
		if (how == O_WRONLY && (flags & O_NONBLOCK) && path_is_fifo(path)) {
			int fd = get_open()(path, flags, mode);
			if (fd == -1 && errno == ENXIO)
				return get_open()(path, (flags & ~O_ACCMODE) | O_RDWR, mode);
			return fd;
		}
		break;
	}
	return get_open()(path, flags, mode);
}

int mkfifo(const char *path, mode_t mode)
{
	int r = get_mkfifo()(path, mode);
	if (r == -1 && errno == EEXIST && fault == FIFO_MKFIFO_REPLACES && unlink(path) == 0)
		return get_mkfifo()(path, mode);
	return r;
}

static void count_queued_as_size(const char *path, struct stat *st)
{
	if (!S_ISFIFO(st->st_mode))
		return;
	int fd = get_open()(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return;
	st->st_size = queued(fd);
	get_close()(fd);
}

int stat(const char *path, struct stat *st)
{
	int r = get_stat()(path, st);
	if (r == 0 && fault == FIFO_STAT_COUNTS_QUEUED)
		count_queued_as_size(path, st);
	return r;
}

int lstat(const char *path, struct stat *st)
{
	int r = get_lstat()(path, st);
	if (r == 0 && fault == FIFO_STAT_COUNTS_QUEUED)
		count_queued_as_size(path, st);
	return r;
}

off_t lseek(int fd, off_t off, int whence)
{
	if (fault == FIFO_LSEEK_SUCCEEDS && is_named_fifo(fd))
		return 0;
	return get_lseek()(fd, off, whence);
}

int fcntl(int fd, int cmd, ...)
{
	va_list ap;
	va_start(ap, cmd);
	/* Every fcntl argument fits in a pointer; glibc reads it the same way. */
	void *arg = va_arg(ap, void *);
	va_end(ap);
	int r = get_fcntl()(fd, cmd, arg);
	if (fault == PIPE_SHARED_AFTER_FORK && cmd == F_GETFD && r == -1 && errno == EBADF && in_case_child)
		return 0;
	if (fault < 0 || r == -1)
		return r;
	if (fault == PIPE_ENDS_READ_WRITE && cmd == F_GETFL && is_case_pipe(fd))
		return (r & ~O_ACCMODE) | O_RDWR;
	if (fault == PIPE_SETSZ_NOT_ROUNDED && cmd == F_SETPIPE_SZ && is_case_pipe(fd))
		return (int)(intptr_t)arg;
	if (fault == FIFO_SIZE_PER_OPEN && cmd == F_GETPIPE_SZ && is_named_fifo(fd))
		return (int)(16 * page);
	return r;
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
	if (fault == CLONE_VM_IGNORED && from_main(caller))
		flags &= ~CLONE_VM;
	return get_clone()(fn, stack, flags, arg, ptid, tls, ctid);
}

ssize_t process_vm_readv(pid_t pid, const struct iovec *local, unsigned long nlocal,
			 const struct iovec *remote, unsigned long nremote, unsigned long flags)
{
	if (fault == PROCESS_VM_REFUSED) {
		errno = EPERM;
		return -1;
	}
	return get_process_vm_readv()(pid, local, nlocal, remote, nremote, flags);
}

ssize_t process_vm_writev(pid_t pid, const struct iovec *local, unsigned long nlocal,
			  const struct iovec *remote, unsigned long nremote, unsigned long flags)
{
	if (fault == PROCESS_VM_REFUSED) {
		errno = EPERM;
		return -1;
	}
	return get_process_vm_writev()(pid, local, nlocal, remote, nremote, flags);
}

int kill(pid_t pid, int sig)
{
	uintptr_t caller = CALLER;
	/* The harness ends children with SIGKILL: that stays a kill. */
	if (fault == KILL_IS_SIGQUEUE && pid > 0 && sig > 0 && sig != SIGKILL && sig != SIGSTOP &&
	    from_main(caller))
		return get_sigqueue()(pid, sig, (union sigval){ .sival_int = 0 });
	return get_kill()(pid, sig);
}

int sigqueue(pid_t pid, int sig, const union sigval value)
{
	union sigval v = value;
	if (fault == SIGQUEUE_VALUE_TRUNCATED)
		v.sival_ptr = (void *)(uintptr_t)(uint32_t)(uintptr_t)value.sival_ptr;
	return get_sigqueue()(pid, sig, v);
}

static int last_taken;		/* the signal the last sigtimedwait took */
static siginfo_t last_info;
static bool replayed;

int sigtimedwait(const sigset_t *set, siginfo_t *info, const struct timespec *timeout)
{
	int sig = get_sigtimedwait()(set, info, timeout);
	if (fault == STANDARD_SIGNAL_QUEUED) {
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
	}
	if (fault == REALTIME_SIGNAL_MERGED && sig >= SIGRTMIN) {
		if (sig == last_taken && !replayed) {
			replayed = true;
			return get_sigtimedwait()(set, info, timeout);
		}
		last_taken = sig;
	}
	return sig;
}

static int socket_type(int fd)
{
	int type = -1;
	socklen_t len = sizeof type;
	return getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == 0 ? type : -1;
}

ssize_t send(int fd, const void *buf, size_t len, int flags)
{
	if (fault == DGRAM_SEND_POLLS && !(flags & MSG_DONTWAIT) && !nonblocking(fd) &&
	    socket_type(fd) == SOCK_DGRAM)
		wait_in_user_space(fd, POLLOUT);
	/* One direction at a time: a send while the other way is busy. */
	if (fault == STREAM_SOCKET_HALF_DUPLEX && socket_type(fd) == SOCK_STREAM && queued(fd) > 0) {
		errno = EAGAIN;
		return -1;
	}
	return get_send()(fd, buf, len, flags);
}

ssize_t recv(int fd, void *buf, size_t len, int flags)
{
	ssize_t n = get_recv()(fd, buf, len, flags);
	if (fault == SEQPACKET_MERGES_MESSAGES && n > 0 && (size_t)n < len && !(flags & MSG_PEEK) &&
	    socket_type(fd) == SOCK_SEQPACKET) {
		ssize_t more = get_recv()(fd, (char *)buf + n, len - (size_t)n, flags | MSG_DONTWAIT);
		if (more > 0)
			n += more;
	}
	return n;
}

int msgsnd(int id, const void *msg, size_t size, int flags)
{
	uintptr_t caller = CALLER;
	if (fault == SYSV_MSGSND_REFUSED && from_main(caller)) {
		errno = EACCES;
		return -1;
	}
	return get_msgsnd()(id, msg, size, flags);
}

/* Criterion's sandbox opens shared memory by name too: only the case's
 * own calls are refused. */
int shm_open(const char *name, int flags, mode_t mode)
{
	uintptr_t caller = CALLER;
	if (fault == POSIX_SHM_BY_NAME_REFUSED && !(flags & O_CREAT) && from_main(caller)) {
		errno = ENOENT;
		return -1;
	}
	return get_shm_open()(name, flags, mode);
}
