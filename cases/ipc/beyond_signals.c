/* RLIMIT_SIGPENDING and the real-time signal queue (getrlimit(2),
 * sigqueue(3), signal(7)). */
#include "ipcproof.h"

#include <sys/resource.h>
#include <time.h>

/* The limit counts the signals queued for the real user ID across all
 * its processes, so the child becomes a user that has none queued. */
static void become_fresh_user_with_limit(int limit, int sig)
{
	CHILD_EXPECT(setgid(65534) == 0 && setuid(65534) == 0, "dropping to 65534: %s", hx_errno_name(errno));
	struct rlimit lim = { (rlim_t)limit, (rlim_t)limit };
	CHILD_EXPECT(setrlimit(RLIMIT_SIGPENDING, &lim) == 0, "setrlimit: %s", hx_errno_name(errno));
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, sig);
	sigprocmask(SIG_BLOCK, &set, NULL);
}

/* How many instances of sig are queued, taking them (none waits). */
static int collect(int sig, int *values, int max)
{
	sigset_t set;
	siginfo_t info;
	struct timespec now = { 0, 0 };
	int n = 0;
	sigemptyset(&set);
	sigaddset(&set, sig);
	while (sigtimedwait(&set, &info, &now) == sig) {
		if (values && n < max)
			values[n] = info.si_value.sival_int;
		n++;
	}
	return n;
}

CASE(ipc, sigqueue_beyond_rlimit_sigpending_fails_with_eagain, "ipc.sigpending.sigqueue-fails-with-eagain-at-the-limit",
     NEEDS("root"))
{
	pid_t child;
	IN_CHILD(child) {
		int sig = SIGRTMIN, values[8] = { 0 };
		char results[64] = "";
		become_fresh_user_with_limit(3, sig);
		for (int i = 1; i <= 5; i++) {
			int r = sigqueue(getpid(), sig, (union sigval){ .sival_int = i });
			snprintf(results + strlen(results), sizeof results - strlen(results), "%s%s", i > 1 ? "," : "",
				 r == 0 ? "ok" : hx_errno_name(errno));
		}
		int got = collect(sig, values, 8);
		hx_evidence("sigqueue_results", "%s", results);
		hx_evidence("delivered", "%d", got);
		CHILD_EXPECT(!strcmp(results, "ok,ok,ok,EAGAIN,EAGAIN"), "sigqueue at limit 3: %s", results);
		CHILD_EXPECT(got == 3 && values[0] == 1 && values[1] == 2 && values[2] == 3,
			     "delivered %d with values %d,%d,%d", got, values[0], values[1], values[2]);
	}
	EXPECT_EXITS(child, 0);
}

CASE(ipc, kill_beyond_rlimit_sigpending_returns_0_but_queues_only_up_to_the_limit_and_one_of_a_new_signal,
     "ipc.sigpending.kill-is-never-refused", NEEDS("root"))
{
	pid_t child;
	IN_CHILD(child) {
		int a = SIGRTMIN + 1, b = SIGRTMIN + 2, fails = 0;
		become_fresh_user_with_limit(3, a);
		sigset_t set;
		sigemptyset(&set);
		sigaddset(&set, b);
		sigprocmask(SIG_BLOCK, &set, NULL);
		for (int i = 0; i < 5; i++)
			fails += kill(getpid(), a) != 0;
		int got_a = collect(a, NULL, 0);
		for (int i = 0; i < 3; i++)
			sigqueue(getpid(), a, (union sigval){ .sival_int = i });
		for (int i = 0; i < 2; i++)
			fails += kill(getpid(), b) != 0;
		int got_b = collect(b, NULL, 0);
		collect(a, NULL, 0);
		hx_evidence("kill_failures", "%d", fails);
		hx_evidence("delivered", "five_kills=%d,two_kills_with_queue_full=%d", got_a, got_b);
		CHILD_EXPECT(fails == 0, "%d kills failed", fails);
		CHILD_EXPECT(got_a == 3, "5 kills at limit 3 delivered %d", got_a);
		CHILD_EXPECT(got_b == 1, "2 kills of another signal with the queue full delivered %d", got_b);
	}
	EXPECT_EXITS(child, 0);
}
