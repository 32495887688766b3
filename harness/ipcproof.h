/* ipcproof harness: the chores every case shares.
 *
 * A case is CASE(area, behaviour_stated_as_a_name) { set-up; the action;
 * the expectation; the evidence }.  The harness gives each case a watchdog,
 * a private 0700 temp directory, forked children in their own process
 * groups (all killed and reaped at the end), blocked-in-the-kernel
 * detection, an fd-leak check and key=value evidence that reaches the
 * results file.  Children never call Criterion's assertions: they report
 * through their exit status and CHILD_EXPECT.
 */
#ifndef IPCPROOF_H
#define IPCPROOF_H

#include <criterion/criterion.h>
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

struct hx_fixture;

/* What a case says about itself; the report hook puts it in the results
 * and `<binary> --ipcproof-list` prints it. */
struct hx_case {
	const char *area;
	const char *name;	/* "behaviour" or "behaviour@variant" */
	const char *claim;	/* the claims.toml id the case checks */
	const char *file;	/* relative to the source root */
	unsigned line;
	const char *needs;	/* declared needs, space-separated (see NEEDS) */
	void (*run)(void);	/* a plain case's body */
	/* A fixture case: its fixture, one variant's data and name, and the
	 * body taking the fixture's state and that variant. */
	const struct hx_fixture *fixture;
	const void *variant_data;
	const char *variant;
	const char *const *variant_needs;
	void (*run_fixture)(void *self, const void *variant);
};

/* The case running in this process (NULL outside a case). */
const struct hx_case *hx_current_case(void);

/* Criterion's own wrapper around a test body, shared by every case: its
 * set-up, the case under its assertion handling, its teardown. */
void hx_case_jmp(void);

/* One Criterion test per case: the registration Criterion's Test() makes,
 * with the name given as a string (so that a variant can be
 * "behaviour@variant"); the case's own record is found by that name.  The
 * harness's init/fini run around every case; Criterion's own timeout is
 * only the backstop, the harness watchdog fires first and says where the
 * case hung. */
#define HX_REGISTER_(area_, id_, name_, claim_, ...) \
	static const struct hx_case hx_case_##id_ = { \
		.area = #area_, .name = name_, .claim = claim_, .file = __FILE__, \
		.line = __LINE__, __VA_ARGS__ }; \
	static struct criterion_test_extra_data hx_extra_##id_ = { \
		.compiler_ = CR_COMPILER_, .lang_ = CR_LANG, .kind_ = CR_TEST_NORMAL, \
		.identifier_ = #area_ "/" name_, .file_ = __FILE__, .line_ = __LINE__, \
		.init = hx_case_init, .fini = hx_case_fini }; \
	static struct criterion_test hx_test_##id_ = { \
		name_, #area_, hx_case_jmp, &hx_extra_##id_ }; \
	__attribute__((used, section("cr_tst"))) \
	static struct criterion_test *hx_test_ptr_##id_ = &hx_test_##id_; \
	__attribute__((used, section("hx_cases"))) \
	static const struct hx_case *hx_case_ptr_##id_ = &hx_case_##id_

/* CASE(area, behaviour_stated_as_a_name, "claim.id") { ... }
 * CASE(area, name, "claim.id", NEEDS("root cmd:losetup")) { ... } */
#define CASE(area, name, claim, ...) \
	static void area##_##name##_body(void); \
	HX_REGISTER_(area, area##_##name, #name, claim, .run = area##_##name##_body, \
		     __VA_ARGS__); \
	static void area##_##name##_body(void)

/* What a case needs to run at all; unmet, it is a skip that says which.
 * Space-separated: `root`, `cmd:NAME` (a program in PATH), a path (`/proc/
 * self/syscall`: it exists), `kernel:MAJOR.MINOR` (at least), `tmpfs`, `disk`
 * (a directory on tmpfs, on a disk filesystem: see hx_path_on).  The
 * binary lists them (`--ipcproof-list`) without running anything. */
#define NEEDS(list) .needs = (list)

/* ---- fixtures and variants (kselftest's FIXTURE/FIXTURE_VARIANT) ------- */

/* A fixture is state set up before a case and torn down after it,
 * declared once for many cases; a variant is one named way of setting it
 * up.  A fixture case runs once per variant it names, each run its own
 * Criterion test `name@variant`:
 *
 *     FIXTURE(ends) { int rd, wr; };
 *     FIXTURE_VARIANT(ends) { const char *needs; bool named; };
 *     FIXTURE_VARIANT_ADD(ends, pipe) { .named = false };
 *     FIXTURE_VARIANT_ADD(ends, fifo) { .named = true };
 *     FIXTURE_SETUP(ends) { ... self->rd = ...; variant->named ... }
 *     FIXTURE_TEARDOWN(ends) { ... }
 *     CASE_F(pipe, read_of_x, "pipe.read.x", ends, pipe, fifo) { self->rd ... }
 *
 * A variant's first member is `needs` (as NEEDS, for that variant only;
 * NULL for none); the rest, such as the behaviour to expect where the
 * variants truly differ, is the fixture's.  Set-up may use SAFE; teardown
 * runs at the end of the case, even after a failed expectation, and only
 * releases (no SAFE, no expectations). */
struct hx_fixture {
	size_t size;
	void (*setup)(void *self, const void *variant);
	void (*teardown)(void *self, const void *variant);
};

#define FIXTURE(f) struct hx_fx_##f
#define FIXTURE_VARIANT(f) struct hx_fv_##f
#define FIXTURE_VARIANT_ADD(f, v) \
	__attribute__((unused)) static const struct hx_fv_##f hx_variant_##f##_##v =
#define FIXTURE_SETUP(f) \
	static void hx_setup_##f(struct hx_fx_##f *self, const struct hx_fv_##f *variant)
#define FIXTURE_TEARDOWN(f) \
	static void hx_teardown_##f(struct hx_fx_##f *self, const struct hx_fv_##f *variant); \
	__attribute__((unused)) static void hx_setup_any_##f(void *s, const void *v) \
	{ \
		hx_setup_##f(s, v); \
	} \
	__attribute__((unused)) static void hx_teardown_any_##f(void *s, const void *v) \
	{ \
		hx_teardown_##f(s, v); \
	} \
	__attribute__((unused)) static const struct hx_fixture hx_fixture_##f = { \
		sizeof(struct hx_fx_##f), hx_setup_any_##f, hx_teardown_any_##f }; \
	static void hx_teardown_##f(struct hx_fx_##f *self, const struct hx_fv_##f *variant)

/* CASE_F(area, behaviour, "claim.id", fixture, variant, ...) { ... }: the
 * body sees `self` (the fixture's state, set up) and `variant`. */
#define CASE_F(area, name, claim, f, ...) \
	static void area##_##name##_body(struct hx_fx_##f *self, const struct hx_fv_##f *variant); \
	static void area##_##name##_any(void *s, const void *v) \
	{ \
		area##_##name##_body(s, v); \
	} \
	HX_EACH_(HX_VARIANT_, (area, name, claim, f), __VA_ARGS__) \
	static void area##_##name##_body(__attribute__((unused)) struct hx_fx_##f *self, \
					 __attribute__((unused)) const struct hx_fv_##f *variant)

#define HX_VARIANT_(args, v) HX_VARIANT2_(HX_UNPACK_ args, v)
#define HX_UNPACK_(...) __VA_ARGS__
#define HX_VARIANT2_(...) HX_VARIANT3_(__VA_ARGS__)
#define HX_VARIANT3_(area, name, claim, f, v) \
	HX_REGISTER_(area, area##_##name##__##v, #name "@" #v, claim, \
		     .fixture = &hx_fixture_##f, .variant_data = &hx_variant_##f##_##v, \
		     .variant = #v, .variant_needs = &hx_variant_##f##_##v.needs, \
		     .run_fixture = area##_##name##_any);

/* HX_EACH_(m, a, x, y, ...) is m(a, x) m(a, y) ...: up to 8. */
#define HX_CAT_(a, b) HX_CAT2_(a, b)
#define HX_CAT2_(a, b) a##b
#define HX_NARGS_(...) HX_NARGS2_(__VA_ARGS__, 8, 7, 6, 5, 4, 3, 2, 1, 0)
#define HX_NARGS2_(_1, _2, _3, _4, _5, _6, _7, _8, n, ...) n
#define HX_EACH_(m, a, ...) HX_CAT_(HX_EACH_, HX_NARGS_(__VA_ARGS__))(m, a, __VA_ARGS__)
#define HX_EACH_1(m, a, x) m(a, x)
#define HX_EACH_2(m, a, x, ...) m(a, x) HX_EACH_1(m, a, __VA_ARGS__)
#define HX_EACH_3(m, a, x, ...) m(a, x) HX_EACH_2(m, a, __VA_ARGS__)
#define HX_EACH_4(m, a, x, ...) m(a, x) HX_EACH_3(m, a, __VA_ARGS__)
#define HX_EACH_5(m, a, x, ...) m(a, x) HX_EACH_4(m, a, __VA_ARGS__)
#define HX_EACH_6(m, a, x, ...) m(a, x) HX_EACH_5(m, a, __VA_ARGS__)
#define HX_EACH_7(m, a, x, ...) m(a, x) HX_EACH_6(m, a, __VA_ARGS__)
#define HX_EACH_8(m, a, x, ...) m(a, x) HX_EACH_7(m, a, __VA_ARGS__)

void hx_case_init(void);
void hx_case_fini(void);

/* ---- evidence ---------------------------------------------------------- */

/* Records key=value in the results; the last value of a key wins. Safe to
 * call in a forked child. */
void hx_evidence(const char *key, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Where the case is, for the timeout report ("waiting for the writer"). */
void hx_step(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Harness failures (not the kernel's): the case is reported as `error`. */
_Noreturn void hx_broken(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

const char *hx_errno_name(int err);
const char *hx_signal_name(int sig);
long hx_page_size(void);

/* Time bounds scale with IPCPROOF_TIME_SCALE (a TCG guest is ~10x slower);
 * a case may take IPCPROOF_CASE_LIMIT seconds (10) times that. */
double hx_time_scale(void);
/* The bound for one expected event (a child blocking, a child exiting). */
double hx_bound_s(void);

/* ---- temp files -------------------------------------------------------- */

/* A path inside the case's private 0700 temp directory (made on first use,
 * removed with everything in it when the case ends). */
const char *hx_path(const char *name);

/* The same in a private directory on a kind of filesystem: HX_FS_TMPFS
 * (IPCPROOF_TMPFS_DIR, the temp dir, /dev/shm), HX_FS_DISK (one keeping
 * files on a block device: IPCPROOF_DISK_DIR, the temp dir, /var/tmp).  A
 * case using one declares the need `tmpfs` or `disk`. */
enum hx_fs { HX_FS_ANY, HX_FS_TMPFS, HX_FS_DISK };
const char *hx_path_on(enum hx_fs fs, const char *name);
/* The filesystem path is on ("ext4", "tmpfs"...); disk: on a block device. */
const char *hx_fs_name(const char *path, bool *disk);

/* ---- children ---------------------------------------------------------- */

/* The child's failure, with the reason stored as evidence. */
#define HX_CHILD_FAILED 99

/* Forks; the child gets its own process group and is killed and reaped
 * at the end of the case at the latest. Returns 0 in the child. */
pid_t hx_fork(void);
/* Runs the block in a forked child which then exits 0:
 *     pid_t reader;
 *     IN_CHILD(reader) { ... }
 * (no `break` or `return` out of the block). */
#define IN_CHILD(pid) for ((pid) = hx_fork(); (pid) == 0; _exit(0))

_Noreturn void hx_child_fail(const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
#define CHILD_EXPECT(cond, ...) \
	do { if (!(cond)) hx_child_fail(__FILE__, __LINE__, __VA_ARGS__); } while (0)

/* A child that writes buf (all n bytes, or it fails) to fd, having closed
 * other_end, and exits; this process's fd is closed on return. */
pid_t hx_child_writes(int fd, int other_end, const void *buf, size_t n);

/* Starts a separate program (not a fork of this one) with only fds 0-2
 * and the listed ones (keep[], nkeep) open, unrelated to this process: no
 * descendant of it (a double fork, reparented away), in a session of its
 * own.  hx_wait, hx_has_ended and EXPECT_EXITS take its pid as a child's;
 * the case end kills it with the children. */
pid_t hx_spawn(char *const argv[], const int *keep, int nkeep);
/* Whether a program from hx_spawn is truly no kin: neither it nor its
 * launcher descends from this process, and its session is another one
 * (the facts are evidence, stranger.*). */
bool hx_unrelated(pid_t pid);
#define EXPECT_UNRELATED(pid) \
	cr_assert(hx_unrelated(pid), "program %d is kin of this process (see stranger.*)", (int)(pid))
/* Runs a program to its end (bounded) with its stdout captured into out
 * (NUL-terminated); returns its wait status, or -1 if it did not end. */
int hx_capture(char *const argv[], char *out, size_t size);
/* Closes every descriptor above 2 but the harness's own. */
void hx_close_nonstd_fds(void);
/* The directory holding the case binaries and their helper programs. */
const char *hx_bindir(void);

enum hx_how { HX_EXITED, HX_SIGNALED, HX_RUNNING };
struct hx_outcome {
	enum hx_how how;
	int code;	/* exit status, or the signal number */
	char text[256];	/* "exited 0", "killed by SIGPIPE", "still running in read" */
};
/* Waits for the child to end, up to hx_bound_s(); a child still running
 * then is left running (the case end kills it). */
struct hx_outcome hx_wait(pid_t pid);
/* Has the child ended?  Does not wait. */
bool hx_has_ended(pid_t pid);

/* ---- checkpoints -------------------------------------------------------- */

/* Ordering between the case and its forked children without a handshake
 * pipe (LTP's TST_CHECKPOINT_WAIT/WAKE).  Wakes are counted, so a wake
 * before the wait is not lost: each wait takes one. */
#define HX_CHECKPOINTS 16
void hx_checkpoint_wake(int id);
/* Waits for a wake of checkpoint id, up to hx_bound_s(); none by then
 * fails the case (in a child: the child, with the reason).  A child that
 * fails (CHILD_EXPECT, SAFE) ends every other process's wait at once: the
 * case then fails with that child's reason. */
void hx_checkpoint_wait(int id);
/* The same, bounded by seconds; false when no wake came (at once, once a
 * child has failed). */
bool hx_checkpoint_try_wait(int id, double seconds);

/* ---- blocked in the kernel --------------------------------------------- */

struct hx_blocked {
	bool blocked;
	char syscall[32];	/* what it sleeps in, as far as the method tells */
	char wchan[64];
	const char *method;	/* proc-syscall, proc-stat, no-progress */
	char settled[64];	/* proc-stat: how long it had to be seen asleep (and not switching, where counted) */
	char seen[160];		/* what was last observed, for the message */
};
/* Waits until pid is asleep inside the named system call ("read", "write",
 * "open", ...), up to hx_bound_s(), and says how that was seen. */
struct hx_blocked hx_wait_blocked(pid_t pid, const char *syscall);

/* ---- faults ------------------------------------------------------------ */

/* In a child about to touch memory: a SIGSEGV or SIGBUS is recorded as
 * evidence (fault.signal, fault.offset = faulting address - base,
 * fault.si_code) and then kills the child as it would have. */
void hx_catch_faults(const void *base);
/* A numeric evidence value recorded so far in this case, or fallback. */
long hx_evidence_long(const char *key, long fallback);
/* The value recorded so far for key, or "" (a static buffer). */
const char *hx_evidence_str(const char *key);

/* ---- expectations (in the case's own process) --------------------------- */

#define EXPECT_EXITS(pid, status) EXPECT_OUTCOME_EXITS(hx_wait(pid), pid, status)

/* The same for an outcome already waited for: a case may clean up between
 * hx_wait and the expectation. */
#define EXPECT_OUTCOME_EXITS(outcome, pid, status) do { \
	struct hx_outcome o_ = (outcome); \
	cr_assert(o_.how == HX_EXITED && o_.code == (status), \
		  "child %d: %s, expected exit %d%s", (int)(pid), o_.text, \
		  (status), hx_child_reason(pid)); \
} while (0)

#define EXPECT_KILLED_BY(pid, sig) do { \
	struct hx_outcome o_ = hx_wait(pid); \
	hx_evidence("signal", "%s", o_.how == HX_SIGNALED ? \
		    hx_signal_name(o_.code) : "none"); \
	cr_assert(o_.how == HX_SIGNALED && o_.code == (sig), \
		  "child %d: %s, expected to be killed by %s%s", (int)(pid), \
		  o_.text, hx_signal_name(sig), hx_child_reason(pid)); \
} while (0)

/* The child died of sig at base + offset (see hx_catch_faults), not
 * earlier and not elsewhere. */
#define EXPECT_FAULT_AT(pid, sig, offset) do { \
	EXPECT_KILLED_BY(pid, sig); \
	cr_assert(hx_evidence_str("fault.offset")[0], "no fault was recorded (hx_catch_faults?)"); \
	long at_ = hx_evidence_long("fault.offset", 0); \
	cr_assert(at_ == (long)(offset), "the %s came at offset %ld, expected %ld", \
		  hx_signal_name(sig), at_, (long)(offset)); \
} while (0)

/* The recorded fault's si_code, by name: "BUS_ADRERR", "SEGV_MAPERR"... */
#define EXPECT_FAULT_CODE(name) \
	cr_assert_str_eq(hx_evidence_str("fault.si_code"), name, "si_code %s, expected %s", \
			 hx_evidence_str("fault.si_code"), name)

/* Proves "it blocks": asleep in the named call now, not finished. */
#define EXPECT_BLOCKED_IN(pid, call) do { \
	struct hx_blocked b_ = hx_wait_blocked(pid, call); \
	hx_evidence("blocked_in", "%s", b_.blocked ? b_.syscall : "-"); \
	hx_evidence("detect", "%s", b_.method); \
	if (b_.wchan[0]) hx_evidence("wchan", "%s", b_.wchan); \
	if (b_.settled[0]) hx_evidence("settled", "%s", b_.settled); \
	cr_assert(b_.blocked, "child %d was not seen blocked in %s (%s)%s", \
		  (int)(pid), call, b_.seen, hx_child_reason(pid)); \
} while (0)

/* A system call fails with the given errno; the errno name is evidence. */
#define EXPECT_FAILS_WITH(call, err) do { \
	errno = 0; \
	long r_ = (long)(call); \
	int e_ = errno; \
	hx_evidence("errno", "%s", r_ == -1 ? hx_errno_name(e_) : "none"); \
	cr_assert(r_ == -1 && e_ == (err), "%s returned %ld (%s), expected -1 with %s", \
		  #call, r_, r_ == -1 ? hx_errno_name(e_) : "no error", hx_errno_name(err)); \
} while (0)

/* The behaviour under test: a call that must succeed; failing is `fail`. */
#define EXPECT_OK(call) ({ \
	errno = 0; \
	long r_ = (long)(call); \
	cr_assert(r_ != -1, "%s failed: %s", #call, hx_errno_name(errno)); \
	r_; })

/* A set-up call (returning -1, or MAP_FAILED, on failure), in the case or
 * in a child: when it fails the case could not check what it is about and
 * is reported as `error`, not `fail` (LTP's SAFE_* and TBROK).  Its value
 * is the call's. */
#define SAFE(call) ({ \
	errno = 0; \
	long r_ = (long)(call); \
	if (r_ == -1) \
		hx_broken("set-up failed at %s:%d: %s: %s", __FILE__, __LINE__, #call, \
			  hx_errno_name(errno)); \
	r_; })

/* The reason a child gave with CHILD_EXPECT, as ": reason", or "". */
const char *hx_child_reason(pid_t pid);

/* ---- small helpers shared by many cases -------------------------------- */

/* Makes a pipe; both ends are the case's to close. */
void hx_pipe(int fds[2]);
/* A pipe that is plumbing, not a subject: the handshake with a separate
 * program (forked children use checkpoints).  Made O_CLOEXEC, which the
 * fault injector never takes for a pipe under test; hx_spawn's keep list
 * still hands an end to the program. */
void hx_plumbing_pipe(int fds[2]);
/* Writes/reads exactly n bytes (loops over short transfers); -1 on error. */
ssize_t hx_write_all(int fd, const void *buf, size_t n);
ssize_t hx_read_all(int fd, void *buf, size_t n);
/* Fills a pipe to the brim through a non-blocking write loop; returns the
 * bytes it took (the measured capacity). The fd's flags are restored. */
long hx_fill(int fd);

/* Atomic-write checks: writer w sends count framed records (its mark, the
 * record's size and sequence number, then its mark to the end) of sizes
 * cycling from 6 bytes to PIPE_BUF, so that records share pipe slots and
 * start part-way into them (in a child: a short write fails the child). */
#define HX_MAX_WRITERS 8
void hx_write_records(int fd, int writer, int count);
/* Reads fd to end of file a record at a time: whole records per writer
 * (each of the size and sequence number expected next), mixed records
 * (after the first, the rest of the stream counts as one), the sizes seen
 * (a bit per size of the cycle) and changes of writer between records. */
struct hx_records {
	int per_writer[HX_MAX_WRITERS];
	int mixed;
	int switches;
	unsigned sizes_seen;
};
struct hx_records hx_read_records(int fd, int writers);

#endif
