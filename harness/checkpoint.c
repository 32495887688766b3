/* Checkpoints between the case and its forked children (LTP's
 * TST_CHECKPOINT_WAIT/WAKE): counters in one page shared by them all,
 * slept on with a futex.  Unlike a handshake pipe they are no descriptor
 * the case has to close, a leak check has to ignore or the fault injector
 * could take for a pipe under test.
 *
 * A child that fails (CHILD_EXPECT, or SAFE in it) abandons them: every
 * wait of another process returns at once instead of sleeping out its
 * bound for a wake that will not come, and the case reports the child's
 * reason (gVisor's sysv case waited 6.7 s so). */
#include "internal.h"

#include <limits.h>
#include <linux/futex.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>

/* HX_CHECKPOINTS counters, then the pid of the first child that failed.
 * ABANDONED is set in every counter when one fails: a futex wait compares
 * the whole word, so it cannot sleep through the abandonment. */
static _Atomic unsigned *counters;
#define ABANDONED 0x80000000u
#define COUNT(v) ((v) & ~ABANDONED)

static void abandon(void);

/* Made when the case starts: before any fork (a child's own would be
 * private to it), and before the case maps anything, so it never lands in
 * a hole the case has just made in its address space.  A raw system call,
 * not libc's mmap: the fault injector, which wraps mmap to break the
 * cases' shared mappings, must never see the harness's own. */
void hx_checkpoints_share(void)
{
	if (counters)
		return;
	/* 32-bit ABIs (i386, arm) have mmap2; their SYS_mmap takes a struct. */
#ifdef SYS_mmap2
	long nr = SYS_mmap2;
#else
	long nr = SYS_mmap;
#endif
	void *page = (void *)syscall(nr, NULL, sizeof(unsigned) * (HX_CHECKPOINTS + 1),
				     PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (page == MAP_FAILED)
		hx_broken("checkpoint page: %s", strerror(errno));
	counters = page;
	hx_on_child_failure(abandon);
}

static _Atomic unsigned *counter(int id)
{
	if (id < 0 || id >= HX_CHECKPOINTS)
		hx_broken("checkpoint %d: ids go from 0 to %d", id, HX_CHECKPOINTS - 1);
	hx_checkpoints_share();
	return &counters[id];
}

void hx_checkpoint_wake(int id)
{
	_Atomic unsigned *c = counter(id);
	atomic_fetch_add(c, 1);
	syscall(SYS_futex, c, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
}

/* A failed child ends every other process's wait. */
static void abandon(void)
{
	unsigned none = 0;
	atomic_compare_exchange_strong(&counters[HX_CHECKPOINTS], &none, (unsigned)getpid());
	for (int i = 0; i < HX_CHECKPOINTS; i++) {
		atomic_fetch_or(&counters[i], ABANDONED);
		syscall(SYS_futex, &counters[i], FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
	}
}

/* The child whose failure abandoned the checkpoints (not this process), or 0. */
static pid_t failed_child(void)
{
	pid_t failed = counters ? (pid_t)atomic_load(&counters[HX_CHECKPOINTS]) : 0;
	return failed == getpid() ? 0 : failed;
}

bool hx_checkpoint_try_wait(int id, double seconds)
{
	_Atomic unsigned *c = counter(id);
	double until = hx_now() + seconds;
	for (;;) {
		unsigned v = atomic_load(c);
		if (COUNT(v) > 0) {
			if (atomic_compare_exchange_weak(c, &v, v - 1))
				return true;
			continue;
		}
		if ((v & ABANDONED) && failed_child())
			return false;
		double left = until - hx_now();
		if (left <= 0)
			return false;
		struct timespec ts = { (time_t)left, (long)((left - (time_t)left) * 1e9) };
		/* Sleeps only while the word is still v: a wake or an abandonment
		 * between the load and here makes it return at once. */
		syscall(SYS_futex, c, FUTEX_WAIT, v, &ts, NULL, 0);
	}
}

void hx_checkpoint_wait(int id)
{
	hx_step("waiting at checkpoint %d", id);
	if (hx_checkpoint_try_wait(id, hx_bound_s()))
		return;
	pid_t failed = failed_child();
	if (hx_in_child() && failed)
		hx_child_fail(__FILE__, __LINE__, "checkpoint %d not woken: child %d failed first", id, (int)failed);
	if (hx_in_child())
		hx_child_fail(__FILE__, __LINE__, "checkpoint %d not woken within %.1fs", id,
			      hx_bound_s());
	if (failed)
		cr_assert_fail("checkpoint %d not woken: child %d failed%s", id, (int)failed, hx_child_reason(failed));
	cr_assert_fail("checkpoint %d not woken within %.1fs", id, hx_bound_s());
}
