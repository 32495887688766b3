/* Cases with known outcomes, some broken on purpose: driver/tests runs this
 * binary and checks that the harness reports each one as it should. */
#include "ipcproof.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

CASE(fixture, child_exit_code_is_seen, "fixture.harness")
{
	pid_t child;
	IN_CHILD(child) _exit(3);
	EXPECT_EXITS(child, 3);
}

CASE(fixture, child_killed_by_signal_is_seen, "fixture.harness")
{
	pid_t child;
	IN_CHILD(child) raise(SIGUSR1);
	EXPECT_KILLED_BY(child, SIGUSR1);
}

CASE(fixture, child_blocked_in_read_is_detected, "fixture.harness")
{
	int p[2];
	char c;
	hx_pipe(p);
	pid_t reader;
	IN_CHILD(reader) CHILD_EXPECT(read(p[0], &c, 1) == 1, "read");
	EXPECT_BLOCKED_IN(reader, "read");
	hx_write_all(p[1], "x", 1);
	EXPECT_EXITS(reader, 0);
	close(p[0]);
	close(p[1]);
}

CASE(fixture, child_blocked_in_write_is_detected, "fixture.harness")
{
	int p[2];
	char page[4096] = {0};
	hx_pipe(p);
	hx_fill(p[1]);
	pid_t writer;
	IN_CHILD(writer) CHILD_EXPECT(write(p[1], "x", 1) == 1, "write");
	EXPECT_BLOCKED_IN(writer, "write");
	hx_read_all(p[0], page, sizeof page);
	EXPECT_EXITS(writer, 0);
	close(p[0]);
	close(p[1]);
}

CASE(fixture, busy_child_is_not_taken_for_blocked, "fixture.harness")
{
	pid_t spinner;
	IN_CHILD(spinner) for (;;) {}
	EXPECT_BLOCKED_IN(spinner, "read");
}

/* Asleep nearly all the time, but never for long: not blocked. */
CASE(fixture, child_that_sleeps_again_and_again_is_not_taken_for_blocked, "fixture.harness")
{
	pid_t sleeper;
	IN_CHILD(sleeper) for (;;) nanosleep(&(struct timespec){ 0, 1000000 }, NULL);
	EXPECT_BLOCKED_IN(sleeper, "read");
}

CASE(fixture, child_reason_reaches_the_message, "fixture.harness")
{
	pid_t child;
	IN_CHILD(child) CHILD_EXPECT(1 + 1 == 3, "arithmetic said %d", 1 + 1);
	EXPECT_EXITS(child, 0);
}

CASE(fixture, case_that_hangs_is_timed_out, "fixture.harness")
{
	int p[2];
	char c;
	hx_pipe(p);
	pid_t child;
	IN_CHILD(child) pause();
	hx_evidence("hung_child", "%d", (int)child);
	SAFE(mkfifo(hx_path("fifo"), 0600));
	hx_step("reading a pipe nobody writes");
	if (read(p[0], &c, 1)) {}
}

CASE(fixture, case_that_crashes_is_an_error, "fixture.harness")
{
	close(open(hx_path("file"), O_CREAT | O_WRONLY, 0600));
	hx_step("about to crash");
	raise(SIGSEGV);
}

CASE(fixture, fd_leak_is_reported, "fixture.harness")
{
	int p[2];
	hx_pipe(p);
}

CASE(fixture, early_exit_is_an_error, "fixture.harness")
{
	_exit(0);
}

CASE(fixture, message_with_quotes_and_newlines_is_valid_json, "fixture.harness")
{
	hx_evidence("tricky", "quote \" backslash \\ tab \t newline \n bell \a end");
	cr_assert_fail("a \"quoted\" word,\nnew line, back\\slash, <b>html</b>, \xff invalid utf-8");
}

/* A child that blocks every signal it can and ignores SIGTERM, and
 * grandchildren that leave its session: none may outlive the case. */
CASE(fixture, stubborn_descendants_are_swept, "fixture.harness")
{
	int p[2];
	hx_pipe(p);
	pid_t child;
	IN_CHILD(child) {
		sigset_t all;
		sigfillset(&all);
		sigprocmask(SIG_BLOCK, &all, NULL);
		signal(SIGTERM, SIG_IGN);
		for (int i = 0; i < 3; i++) {
			pid_t g = fork();
			if (g == 0) {
				setsid();
				if (fork() == 0) { /* great-grandchild, orphaned at once */
					pid_t me = getpid();
					if (write(p[1], &me, sizeof me)) {}
					pause();
				}
				pid_t me = getpid();
				if (write(p[1], &me, sizeof me)) {}
				_exit(0);
			}
		}
		pid_t me = getpid();
		if (write(p[1], &me, sizeof me)) {}
		for (;;)
			pause();
	}
	close(p[1]);
	pid_t pids[7];
	cr_assert_eq(hx_read_all(p[0], pids, sizeof pids), (ssize_t)sizeof pids);
	close(p[0]);
	for (int i = 0; i < 7; i++) {
		char key[32];
		snprintf(key, sizeof key, "descendant%d", i);
		hx_evidence(key, "%d", (int)pids[i]);
	}
}

CASE(fixture, fault_offset_is_recorded, "fixture.harness")
{
	char *page = (char *)SAFE(mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
	pid_t child;
	IN_CHILD(child) {
		hx_catch_faults(page);
		*(volatile char *)(page + 123) = 1;
	}
	EXPECT_FAULT_AT(child, SIGSEGV, 123);
	munmap(page, 4096);
}

CASE(fixture, skip_says_why, "fixture.harness")
{
	cr_skip_test("no %s here", "frobnicator");
}

CASE(fixture, failed_setup_is_an_error_not_a_fail, "fixture.harness")
{
	SAFE(open(hx_path("missing"), O_RDONLY));
	cr_assert_fail("not reached: SAFE ends the case");
}

CASE(fixture, failed_setup_in_a_child_is_an_error_not_a_fail, "fixture.harness")
{
	pid_t child;
	IN_CHILD(child) SAFE(open(hx_path("missing"), O_RDONLY));
	EXPECT_EXITS(child, 0);
}

/* Wakes are counted: one made before the wait is not lost. */
CASE(fixture, checkpoint_woken_before_the_wait_lets_it_pass, "fixture.harness")
{
	pid_t child;
	IN_CHILD(child) {
		hx_checkpoint_wake(1);
		hx_checkpoint_wait(2);
	}
	hx_checkpoint_wait(1);
	EXPECT_BLOCKED_IN(child, "futex");
	hx_checkpoint_wake(2);
	EXPECT_EXITS(child, 0);
}

CASE(fixture, checkpoint_never_woken_fails_saying_which, "fixture.harness")
{
	hx_checkpoint_wait(3);
}

/* The child fails before its wake: the wait ends then, with its reason. */
CASE(fixture, checkpoint_wait_ends_when_the_waking_child_fails, "fixture.harness")
{
	pid_t child;
	IN_CHILD(child) {
		CHILD_EXPECT(getpid() == 0, "the child's own reason");
		hx_checkpoint_wake(4);
	}
	hx_checkpoint_wait(4);
}

/* ---- needs, fixtures, variants ----------------------------------------- */

CASE(fixture, unmet_need_is_a_skip_that_says_which, "fixture.harness",
     NEEDS("/proc/self cmd:ipcproof-no-such-command"))
{
	cr_assert_fail("not reached: the need is unmet");
}

CASE(fixture, kernel_too_old_is_a_skip, "fixture.harness", NEEDS("kernel:999.1"))
{
	cr_assert_fail("not reached: no kernel is that new");
}

CASE(fixture, misspelt_need_is_an_error, "fixture.harness", NEEDS("rooot"))
{
	cr_assert_fail("not reached: the need is not one");
}

FIXTURE(counter) { int fd; int *calls; };
FIXTURE_VARIANT(counter) { const char *needs; int start; };
FIXTURE_VARIANT_ADD(counter, one) { .start = 1 };
FIXTURE_VARIANT_ADD(counter, two) { .start = 2 };
FIXTURE_VARIANT_ADD(counter, unmet) { .needs = "cmd:ipcproof-no-such-command", .start = 3 };
FIXTURE_SETUP(counter)
{
	self->fd = (int)SAFE(open("/dev/null", O_RDONLY | O_CLOEXEC));
	hx_evidence("setup", "%d", variant->start);
}
FIXTURE_TEARDOWN(counter)
{
	close(self->fd);
	hx_evidence("teardown", "%d", variant->start);
}

CASE_F(fixture, each_variant_is_its_own_case, "fixture.harness", counter, one, two, unmet)
{
	hx_evidence("body", "%d", variant->start);
	cr_assert(fcntl(self->fd, F_GETFD) != -1, "set-up ran before the body");
}

/* Teardown closes the descriptor even though the body never returns. */
CASE_F(fixture, teardown_runs_after_a_failed_expectation, "fixture.harness", counter, one)
{
	cr_assert_fail("failed on purpose");
}
