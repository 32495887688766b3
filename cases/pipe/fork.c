/* Who can use a pipe: processes that inherit it across fork, and, despite
 * the notes, processes that do not. */
#include "ipcproof.h"

#include <fcntl.h>
#include <sys/socket.h>

static const char message[] = "through the pipe";

CASE(pipe, parent_writes_and_child_reads_through_pipe_made_before_fork, "pipe.flow.create-then-fork")
{
	int p[2];
	hx_pipe(p);
	pid_t child;
	IN_CHILD(child) {
		char buf[64] = "";
		close(p[1]);
		CHILD_EXPECT(hx_read_all(p[0], buf, sizeof buf - 1) == sizeof message - 1 &&
			     strcmp(buf, message) == 0, "child read \"%s\"", buf);
	}
	close(p[0]);
	hx_write_all(p[1], message, sizeof message - 1);
	close(p[1]);
	EXPECT_EXITS(child, 0);
}

CASE(pipe, child_writes_and_parent_reads_through_pipe_made_before_fork, "pipe.flow.create-then-fork")
{
	int p[2];
	char buf[64] = "";
	hx_pipe(p);
	pid_t child;
	IN_CHILD(child) {
		close(p[0]);
		hx_write_all(p[1], message, sizeof message - 1);
	}
	close(p[1]);
	ssize_t n = hx_read_all(p[0], buf, sizeof buf - 1);
	close(p[0]);
	EXPECT_EXITS(child, 0);
	cr_assert_eq(n, (ssize_t)sizeof message - 1);
	cr_assert_str_eq(buf, message);
}

CASE(pipe, siblings_talk_through_a_pipe_their_parent_made, "pipe.flow.create-then-fork")
{
	int p[2];
	hx_pipe(p);
	pid_t writer, reader;
	IN_CHILD(writer) {
		close(p[0]);
		hx_write_all(p[1], message, sizeof message - 1);
	}
	IN_CHILD(reader) {
		char buf[64] = "";
		close(p[1]);
		CHILD_EXPECT(hx_read_all(p[0], buf, sizeof buf - 1) == sizeof message - 1 &&
			     strcmp(buf, message) == 0, "sibling read \"%s\"", buf);
	}
	close(p[0]);
	close(p[1]);
	EXPECT_EXITS(writer, 0);
	EXPECT_EXITS(reader, 0);
}

/* Hence "create, then fork": a pipe made after fork exists in one process. */
CASE(pipe, pipe_made_after_fork_is_not_in_the_child, "pipe.flow.create-then-fork")
{
	int late[2];
	pid_t child;
	IN_CHILD(child) {
		hx_checkpoint_wait(0); /* the numbers are in the evidence by then */
		int fds[2] = { (int)hx_evidence_long("late_read_fd", -1),
			       (int)hx_evidence_long("late_write_fd", -1) };
		for (int i = 0; i < 2; i++)
			CHILD_EXPECT(fcntl(fds[i], F_GETFD) == -1 && errno == EBADF,
				     "fd %d is open in the child", fds[i]);
	}
	hx_pipe(late);
	hx_evidence("late_read_fd", "%d", late[0]);
	hx_evidence("late_write_fd", "%d", late[1]);
	hx_checkpoint_wake(0);
	EXPECT_EXITS(child, 0);
	close(late[0]);
	close(late[1]);
}

/* An unrelated program (exec'd with no descriptor of the pipe) opens the
 * pipe through its /proc/PID/fd link. */
CASE(pipe, unrelated_process_writes_through_proc_fd_link, "pipe.users.related-only")
{
	int p[2];
	char path[64], buf[64] = "";
	SAFE(pipe2(p, O_CLOEXEC));
	snprintf(path, sizeof path, "/proc/%d/fd/%d", (int)getpid(), p[1]);
	char peer[4096];
	snprintf(peer, sizeof peer, "%s/peer-pipe", hx_bindir());
	char *argv[] = { peer, "proc", path, (char *)message, NULL };

	pid_t stranger = hx_spawn(argv, NULL, 0);
	EXPECT_UNRELATED(stranger);
	EXPECT_EXITS(stranger, 0);
	close(p[1]);
	ssize_t n = hx_read_all(p[0], buf, sizeof buf - 1);
	close(p[0]);

	hx_evidence("path", "/proc/PID/fd/%d", p[1]);
	cr_assert_str_eq(buf, message, "read %zd bytes: \"%s\"", n, buf);
}

CASE(pipe, unrelated_process_writes_through_fd_passed_over_unix_socket, "pipe.users.related-only")
{
	int p[2], sv[2];
	char buf[64] = "", one = 'x', sockarg[16];
	SAFE(pipe2(p, O_CLOEXEC));
	SAFE(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
	char peer[4096];
	snprintf(peer, sizeof peer, "%s/peer-pipe", hx_bindir());
	snprintf(sockarg, sizeof sockarg, "%d", sv[1]);
	char *argv[] = { peer, "scm", sockarg, (char *)message, NULL };
	pid_t stranger = hx_spawn(argv, &sv[1], 1);
	EXPECT_UNRELATED(stranger);
	close(sv[1]);

	char control[CMSG_SPACE(sizeof(int))] = { 0 };
	struct iovec iov = { &one, 1 };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
			      .msg_control = control, .msg_controllen = sizeof control };
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &p[1], sizeof(int));
	EXPECT_OK(sendmsg(sv[0], &msg, 0));
	close(p[1]);
	close(sv[0]);
	EXPECT_EXITS(stranger, 0);
	hx_read_all(p[0], buf, sizeof buf - 1);
	close(p[0]);

	cr_assert_str_eq(buf, message);
}
