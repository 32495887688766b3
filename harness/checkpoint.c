/* Checkpoints between the case and its forked children (LTP's
 * TST_CHECKPOINT_WAIT/WAKE): counters in one page shared by them all,
 * slept on with a futex.  Unlike a handshake pipe they are no descriptor
 * the case has to close, a leak check has to ignore or the fault injector
 * could take for a pipe under test. */
#include "internal.h"

#include <limits.h>
#include <linux/futex.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>

static _Atomic unsigned *counters;

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
	void *page = (void *)syscall(nr, NULL, sizeof(unsigned) * HX_CHECKPOINTS,
				     PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (page == MAP_FAILED)
		hx_broken("checkpoint page: %s", strerror(errno));
	counters = page;
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

bool hx_checkpoint_try_wait(int id, double seconds)
{
	_Atomic unsigned *c = counter(id);
	double until = hx_now() + seconds;
	for (;;) {
		unsigned v = atomic_load(c);
		if (v > 0) {
			if (atomic_compare_exchange_weak(c, &v, v - 1))
				return true;
			continue;
		}
		double left = until - hx_now();
		if (left <= 0)
			return false;
		struct timespec ts = { (time_t)left, (long)((left - (time_t)left) * 1e9) };
		/* Sleeps only while the counter is still 0: a wake between the
		 * load and here makes it return at once. */
		syscall(SYS_futex, c, FUTEX_WAIT, 0, &ts, NULL, 0);
	}
}

void hx_checkpoint_wait(int id)
{
	hx_step("waiting at checkpoint %d", id);
	if (hx_checkpoint_try_wait(id, hx_bound_s()))
		return;
	if (hx_in_child())
		hx_child_fail(__FILE__, __LINE__, "checkpoint %d not woken within %.1fs", id,
			      hx_bound_s());
	cr_assert_fail("checkpoint %d not woken within %.1fs", id, hx_bound_s());
}
