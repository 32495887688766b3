/* Each process has its own address space: fork gives the child a copy;
 * only CLONE_VM or the kernel's remote-memory calls cross the line. */
#include "ipcproof.h"

#include <sched.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>

/* Checkpoints: the child is ready; the parent says go. */
enum { READY, GO };

/* volatile: every look is a real load from this process's copy. */
static volatile int global = 1;

CASE(ipc, global_changed_in_child_after_fork_is_not_seen_by_parent, "ipc.address-space.separate-after-fork")
{
	global = 1;
	pid_t child;
	IN_CHILD(child) {
		global = 2;
		hx_evidence("child_sees", "%d", global);
	}
	EXPECT_EXITS(child, 0);

	hx_evidence("parent_sees", "%d", global);
	cr_assert_eq(global, 1, "the parent sees the child's %d", global);
}

CASE(ipc, global_changed_in_parent_after_fork_is_not_seen_by_child, "ipc.address-space.separate-after-fork")
{
	global = 1;
	pid_t child;
	IN_CHILD(child) {
		hx_checkpoint_wait(GO);
		hx_evidence("child_sees", "%d", global);
		CHILD_EXPECT(global == 1, "the child sees the parent's %d", global);
	}

	global = 2;
	hx_checkpoint_wake(GO);

	EXPECT_EXITS(child, 0);
}

/* Both processes are alive and have each stored their own value at the
 * same virtual address before either looks. */
CASE(ipc, same_virtual_address_holds_different_values_in_parent_and_child, "ipc.address-space.separate-after-fork")
{
	pid_t child;
	IN_CHILD(child) {
		global = 222;
		hx_checkpoint_wait(GO);
		hx_evidence("child_address", "%p", (void *)&global);
		hx_evidence("child_value", "%d", global);
	}

	global = 111;
	hx_checkpoint_wake(GO);

	EXPECT_EXITS(child, 0);
	char parent_address[32];
	snprintf(parent_address, sizeof parent_address, "%p", (void *)&global);
	const char *child_address = hx_evidence_str("child_address");
	hx_evidence("parent_address", "%s", parent_address);
	hx_evidence("same_address", "%s", strcmp(child_address, parent_address) ? "no" : "yes");
	hx_evidence("parent_value", "%d", global);
	cr_assert_str_eq(child_address, parent_address, "the child's variable is elsewhere");
	cr_assert_eq(global, 111);
	cr_assert_eq(hx_evidence_long("child_value", 0), 222);
}

/* What the clone says of itself, stored where the parent sees it (the
 * address space is shared): its pid, its thread id. */
static volatile pid_t clone_pid, clone_tid;

static int store_two(void *arg)
{
	(void)arg;
	clone_pid = getpid();
	clone_tid = (pid_t)syscall(SYS_gettid);
	global = 2;
	return 0;
}

/* The Tgid: line of /proc/PID/status, or -1. */
static long thread_group_of(pid_t pid)
{
	char path[64], line[128];
	long tgid = -1;
	snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
	FILE *f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof line, f))
		if (sscanf(line, "Tgid: %ld", &tgid) == 1)
			break;
	fclose(f);
	return tgid;
}

/* A process (its own pid and thread group, not a thread) that shares the
 * address space it was cloned from: what the clone itself reports is
 * compared, not clone's return value with our own pid. */
CASE(ipc, process_cloned_with_clone_vm_changes_the_parents_global, "ipc.address-space.every-process")
{
	static char stack[64 * 1024] __attribute__((aligned(16)));
	global = 1;
	clone_pid = clone_tid = 0;

	pid_t pid = EXPECT_OK(clone(store_two, stack + sizeof stack, CLONE_VM | SIGCHLD, NULL));
	/* Until it is reaped the clone's /proc entry stays, exited or not:
	 * WNOWAIT looks without reaping. */
	for (;;) {
		siginfo_t si = { .si_pid = 0 };
		if (clone_pid != 0 || (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 &&
				       si.si_pid == pid))
			break;
		sched_yield();
	}
	long tgid = thread_group_of(pid);
	char task[64];
	snprintf(task, sizeof task, "/proc/self/task/%d", (int)pid);
	bool our_thread = access(task, F_OK) == 0;
	hx_evidence("clone_pid", "%d", (int)clone_pid);
	hx_evidence("clone_tgid", "%ld", tgid);
	hx_evidence("clone_is_our_thread", "%s", our_thread ? "yes" : "no");
	/* Before waiting: a thread could not be waited for. */
	cr_assert(clone_pid == pid && clone_tid == pid, "the clone reports pid %d, tid %d; clone returned %d",
		  (int)clone_pid, (int)clone_tid, (int)pid);
	cr_assert_neq(clone_pid, getpid(), "the clone has the parent's pid: a thread");
	cr_assert_eq(tgid, (long)pid, "the clone's thread group is %ld", tgid);
	cr_assert(!our_thread, "the clone is a thread of this process");
	int status = 0;
	SAFE(waitpid(pid, &status, 0));

	hx_evidence("parent_sees", "%d", global);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %#x", status);
	cr_assert_eq(global, 2, "the parent still sees %d", global);
}

/* A child that stores `value` in its global, wakes READY, stays until GO
 * and then expects `at_end` there; returns once it is ready. */
static pid_t child_holding(int value, int at_end)
{
	pid_t child;
	IN_CHILD(child) {
		global = value;
		hx_checkpoint_wake(READY);
		hx_checkpoint_wait(GO);
		hx_evidence("child_sees", "%d", global);
		CHILD_EXPECT(global == at_end, "the child sees %d, not %d", global, at_end);
	}
	hx_checkpoint_wait(READY);
	return child;
}

typedef ssize_t vm_call(pid_t, const struct iovec *, unsigned long, const struct iovec *,
			unsigned long, unsigned long);

/* One int between *mine and the holding child's global, by call; then the
 * child may go on.  A kernel without the call skips. */
static ssize_t across(vm_call *call, const char *name, pid_t child, int *mine, int *err)
{
	struct iovec here = { mine, sizeof *mine };
	struct iovec there = { (void *)&global, sizeof global };
	errno = 0;
	ssize_t n = call(child, &here, 1, &there, 1, 0);
	*err = errno;
	/* Without the call the child is never let go: what it would then see
	 * is no evidence of anything, and racing the skip it varied by run. */
	if (n == -1 && *err == ENOSYS)
		cr_skip_test("%s: ENOSYS", name);
	hx_checkpoint_wake(GO);
	return n;
}

/* The kernel copies between address spaces for a process with ptrace
 * access to the other (here: its parent, root). */
CASE(ipc, process_vm_readv_reads_a_global_of_another_process, "ipc.address-space.no-access")
{
	int seen = 0, err;
	global = 1;
	pid_t child = child_holding(41, 41);

	ssize_t n = across(process_vm_readv, "process_vm_readv", child, &seen, &err);

	hx_evidence("read", "%zd", n);
	hx_evidence("read_value", "%d", seen);
	hx_evidence("own_value", "%d", global);
	cr_assert_eq(n, (ssize_t)sizeof seen, "process_vm_readv: %s", hx_errno_name(err));
	cr_assert_eq(seen, 41);
	cr_assert_eq(global, 1);
	EXPECT_EXITS(child, 0);
}

CASE(ipc, process_vm_writev_changes_a_global_of_another_process, "ipc.address-space.no-access")
{
	int value = 42, err;
	global = 1;
	pid_t child = child_holding(41, 42);

	ssize_t n = across(process_vm_writev, "process_vm_writev", child, &value, &err);

	hx_evidence("written", "%zd", n);
	hx_evidence("own_value", "%d", global);
	cr_assert_eq(n, (ssize_t)sizeof value, "process_vm_writev: %s", hx_errno_name(err));
	EXPECT_EXITS(child, 0);
	cr_assert_eq(global, 1);
}

/* The access check itself: a process that dropped to another uid has no
 * ptrace access to its root parent and is refused with EPERM, though the
 * parent is alive and the address is valid. */
CASE(ipc, process_vm_readv_without_ptrace_access_fails_with_eperm, "ipc.address-space.no-access", NEEDS("root"))
{
	global = 41;
	pid_t stranger;
	IN_CHILD(stranger) {
		int seen = 0;
		struct iovec here = { &seen, sizeof seen };
		struct iovec there = { (void *)&global, sizeof global };
		CHILD_EXPECT(setgid(65534) == 0 && setuid(65534) == 0, "dropping root: %s",
			     hx_errno_name(errno));
		errno = 0;
		ssize_t n = process_vm_readv(getppid(), &here, 1, &there, 1, 0);
		int err = errno;
		if (n == -1 && err == ENOSYS)
			_exit(77);
		hx_evidence("errno", "%s", n == -1 ? hx_errno_name(err) : "none");
		CHILD_EXPECT(n == -1 && err == EPERM, "process_vm_readv of the parent returned %zd (%s)", n,
			     hx_errno_name(err));
	}
	struct hx_outcome o = hx_wait(stranger);
	if (o.how == HX_EXITED && o.code == 77)
		cr_skip_test("process_vm_readv: ENOSYS");
	EXPECT_OUTCOME_EXITS(o, stranger, 0);
}
