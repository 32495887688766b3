/* What a signal carries: its number and the sender's identity, one value
 * with sigqueue, and (for standard signals) not even a count.  The
 * receiver is always a child: the case process has a watchdog thread a
 * process-directed signal could land on. */
#include "ipcproof.h"

#include <stdint.h>

static const char *code_name(int code)
{
	return code == SI_USER ? "SI_USER" : code == SI_QUEUE ? "SI_QUEUE"
	       : code == SI_TKILL ? "SI_TKILL" : "other";
}

/* Blocks sig in this thread and returns the old mask: a child forked now
 * has sig blocked from its first instruction, so none is lost before it
 * waits. */
static sigset_t block(int sig)
{
	sigset_t set, old;
	sigemptyset(&set);
	sigaddset(&set, sig);
	sigprocmask(SIG_BLOCK, &set, &old);
	return old;
}

/* In the child: takes every pending sig without waiting, up to max;
 * values[i] gets each one's si_value.sival_int. */
static int collect(int sig, int *values, int max)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, sig);
	struct timespec now = { 0, 0 };
	siginfo_t si;
	int n = 0;
	while (n < max && sigtimedwait(&set, &si, &now) == sig)
		values[n++] = si.si_value.sival_int;
	return n;
}

/* In the child: waits for sig (blocked) and returns what came with it. */
static siginfo_t wait_for(int sig)
{
	sigset_t set;
	siginfo_t si;
	sigemptyset(&set);
	sigaddset(&set, sig);
	CHILD_EXPECT(sigwaitinfo(&set, &si) == sig, "sigwaitinfo: %s", hx_errno_name(errno));
	return si;
}

CASE(ipc, signal_carries_a_sigqueue_int_from_one_process_to_another, "ipc.methods.signal")
{
	sigset_t old = block(SIGUSR1);
	pid_t receiver;
	IN_CHILD(receiver) {
		siginfo_t si = wait_for(SIGUSR1);
		hx_evidence("received_int", "%d", si.si_value.sival_int);
		CHILD_EXPECT(si.si_value.sival_int == 12345, "got %d", si.si_value.sival_int);
	}
	sigprocmask(SIG_SETMASK, &old, NULL);

	EXPECT_OK(sigqueue(receiver, SIGUSR1, (union sigval){ .sival_int = 12345 }));

	EXPECT_EXITS(receiver, 0);
}

/* The sender's real uid (1000) differs from its effective one (0, so it
 * may signal anyone): si_uid must be the real one. */
CASE(ipc, kill_delivers_the_signal_number_and_the_senders_pid_and_uid_as_si_user, "ipc.signal.sigqueue-value",
     NEEDS("root"))
{
	enum { REAL_UID = 1000 };
	sigset_t old = block(SIGUSR1);
	pid_t receiver;
	IN_CHILD(receiver) {
		siginfo_t si = wait_for(SIGUSR1);
		hx_evidence("si_signo", "%s", hx_signal_name(si.si_signo));
		hx_evidence("si_code", "%s", code_name(si.si_code));
		hx_evidence("si_pid", "%d", (int)si.si_pid);
		hx_evidence("si_uid", "%u", (unsigned)si.si_uid);
		CHILD_EXPECT(si.si_signo == SIGUSR1 && si.si_code == SI_USER, "si_signo %d, si_code %d",
			     si.si_signo, si.si_code);
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	pid_t sender;
	IN_CHILD(sender) {
		CHILD_EXPECT(setresuid(REAL_UID, 0, 0) == 0, "setresuid: %s", hx_errno_name(errno));
		CHILD_EXPECT(kill(receiver, SIGUSR1) == 0, "kill: %s", hx_errno_name(errno));
	}

	EXPECT_EXITS(sender, 0);
	EXPECT_EXITS(receiver, 0);
	cr_assert_eq(hx_evidence_long("si_pid", -1), (long)sender, "si_pid %ld, the sender was %d",
		     hx_evidence_long("si_pid", -1), (int)sender);
	cr_assert_eq(hx_evidence_long("si_uid", -1), REAL_UID, "si_uid %ld, the sender's real uid %d",
		     hx_evidence_long("si_uid", -1), REAL_UID);
}

CASE(ipc, sigqueue_adds_one_pointer_sized_value_as_si_queue, "ipc.signal.sigqueue-value")
{
	pid_t sender = getpid();
	void *value = (void *)(uintptr_t)0x1122334455667788ULL;
	sigset_t old = block(SIGUSR1);
	pid_t receiver;
	IN_CHILD(receiver) {
		siginfo_t si = wait_for(SIGUSR1);
		hx_evidence("si_code", "%s", code_name(si.si_code));
		hx_evidence("si_value", "%p", si.si_value.sival_ptr);
		hx_evidence("value_bytes", "%zu", sizeof si.si_value);
		CHILD_EXPECT(sizeof si.si_value == sizeof(void *), "si_value is %zu bytes, a pointer %zu",
			     sizeof si.si_value, sizeof(void *));
		CHILD_EXPECT(si.si_code == SI_QUEUE, "si_code %d", si.si_code);
		CHILD_EXPECT(si.si_pid == sender, "si_pid %d", (int)si.si_pid);
		CHILD_EXPECT(si.si_value.sival_ptr == value, "si_value %p", si.si_value.sival_ptr);
	}
	sigprocmask(SIG_SETMASK, &old, NULL);

	EXPECT_OK(sigqueue(receiver, SIGUSR1, (union sigval){ .sival_ptr = value }));

	EXPECT_EXITS(receiver, 0);
}

/* The child takes what is pending only after the checkpoint says both
 * sigqueue calls (values 1 and 2) have returned: it sees exactly what the
 * kernel kept.  Returns the child; it expects `expected` deliveries. */
static pid_t sent_twice_while_blocked(int sig, int expected)
{
	sigset_t old = block(sig);
	pid_t receiver;
	IN_CHILD(receiver) {
		int values[4] = { 0 };
		hx_checkpoint_wait(0);
		int n = collect(sig, values, 4);
		hx_evidence("delivered", "%d", n);
		hx_evidence("values", "%d,%d", values[0], values[1]);
		CHILD_EXPECT(n == expected, "%d delivered, expected %d", n, expected);
		for (int i = 0; i < n; i++)
			CHILD_EXPECT(values[i] == i + 1, "delivery %d carried %d", i + 1, values[i]);
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	for (int v = 1; v <= 2; v++)
		EXPECT_OK(sigqueue(receiver, sig, (union sigval){ .sival_int = v }));
	hx_checkpoint_wake(0);
	return receiver;
}

/* The second is dropped, not merged: the one delivered carries the first
 * value. */
CASE(ipc, standard_signal_sent_twice_while_blocked_is_delivered_once, "ipc.signal.sigqueue-value")
{
	pid_t receiver = sent_twice_while_blocked(SIGUSR1, 1);
	hx_evidence("signal", "%s", hx_signal_name(SIGUSR1));
	EXPECT_EXITS(receiver, 0);
}

CASE(ipc, realtime_signal_sent_twice_while_blocked_is_delivered_twice_in_order, "ipc.signal.sigqueue-value")
{
	pid_t receiver = sent_twice_while_blocked(SIGRTMIN, 2);
	hx_evidence("signal", "SIGRTMIN (%d)", SIGRTMIN);
	EXPECT_EXITS(receiver, 0);
}
