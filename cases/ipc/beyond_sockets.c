/* Local sockets beyond the notes' "stable" (unix(7), send(2), recv(2)):
 * datagram and seqpacket peers that closed, what FIONREAD counts, peeking
 * and truncation, the credentials the kernel vouches for, and what binds
 * and connects to a name. */
#include "ipcproof.h"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <linux/sockios.h>

static const int TYPES[] = { SOCK_STREAM, SOCK_SEQPACKET, SOCK_DGRAM };
static const char *const TYPE_NAMES[] = { "stream", "seqpacket", "dgram" };

static void pair(int type, int sv[2])
{
	SAFE(socketpair(AF_UNIX, type, 0, sv));
}

static void close_pair(int sv[2])
{
	close(sv[0]);
	close(sv[1]);
}

static socklen_t address(struct sockaddr_un *sa, const char *path)
{
	memset(sa, 0, sizeof *sa);
	sa->sun_family = AF_UNIX;
	snprintf(sa->sun_path, sizeof sa->sun_path, "%s", path);
	return sizeof *sa;
}

CASE(ipc, dgram_socket_whose_peer_closed_gets_econnrefused_and_never_end_of_file,
     "ipc.socket.dgram-peer-closed-refuses-and-never-eofs")
{
	int sv[2];
	char b;
	pair(SOCK_DGRAM, sv);
	close(sv[1]);

	EXPECT_FAILS_WITH(send(sv[0], "x", 1, 0), ECONNREFUSED);
	hx_evidence("pair_send", "%s", hx_evidence_str("errno"));
	EXPECT_FAILS_WITH(recv(sv[0], &b, 1, MSG_DONTWAIT), EAGAIN);
	hx_evidence("pair_recv", "%s", hx_evidence_str("errno"));

	/* Relative names in a child inside the private directory: its absolute
	 * path may be longer than sun_path holds. */
	char dir[4096];
	snprintf(dir, sizeof dir, "%s", hx_path("bound"));
	*strrchr(dir, '/') = '\0';
	pid_t child;
	IN_CHILD(child) {
		struct sockaddr_un sa, missing;
		CHILD_EXPECT(chdir(dir) == 0, "chdir: %s", hx_errno_name(errno));
		socklen_t len = address(&sa, "bound");
		address(&missing, "missing");
		int server = socket(AF_UNIX, SOCK_DGRAM, 0), client = socket(AF_UNIX, SOCK_DGRAM, 0);
		CHILD_EXPECT(bind(server, (struct sockaddr *)&sa, len) == 0 &&
				     connect(client, (struct sockaddr *)&sa, len) == 0,
			     "set-up: %s", hx_errno_name(errno));
		close(server);
		const char *got[4];
		got[0] = send(client, "x", 1, 0) < 0 ? hx_errno_name(errno) : "sent";
		got[1] = send(client, "x", 1, 0) < 0 ? hx_errno_name(errno) : "sent";
		got[2] = sendto(client, "x", 1, 0, (struct sockaddr *)&sa, len) < 0 ? hx_errno_name(errno) : "sent";
		got[3] = sendto(client, "x", 1, 0, (struct sockaddr *)&missing, len) < 0 ? hx_errno_name(errno) : "sent";
		hx_evidence("bound_peer_closed", "send=%s,send_again=%s,sendto_stale=%s,sendto_missing=%s", got[0], got[1],
			    got[2], got[3]);
		CHILD_EXPECT(!strcmp(got[0], "ECONNREFUSED") && !strcmp(got[1], "ENOTCONN") &&
				     !strcmp(got[2], "ECONNREFUSED") && !strcmp(got[3], "ENOENT"),
			     "send %s, again %s, sendto the stale path %s, a missing path %s", got[0], got[1], got[2],
			     got[3]);
		close(client);
	}
	EXPECT_EXITS(child, 0);
	close(sv[0]);
}

/* The sender keeps SIGPIPE's default disposition: the signal, if sent, kills it. */
static pid_t send_to_closed_peer(int type)
{
	int sv[2];
	pair(type, sv);
	close(sv[1]);
	pid_t child;
	IN_CHILD(child) {
		char b;
		signal(SIGPIPE, SIG_DFL);
		ssize_t r = recv(sv[0], &b, 1, 0);
		hx_evidence("recv", "%zd", r);
		CHILD_EXPECT(r == 0, "recv from the closed peer returned %zd (%s)", r, hx_errno_name(errno));
		ssize_t n = send(sv[0], "x", 1, 0);
		hx_evidence("send_errno", "%s", n < 0 ? hx_errno_name(errno) : "none");
		CHILD_EXPECT(n == -1 && errno == EPIPE, "send returned %zd (%s)", n, hx_errno_name(errno));
	}
	close(sv[0]);
	return child;
}

CASE(ipc, seqpacket_send_to_a_closed_peer_fails_with_epipe_and_raises_no_sigpipe,
     "ipc.socket.seqpacket-peer-closed-epipe-without-sigpipe")
{
	pid_t sender = send_to_closed_peer(SOCK_SEQPACKET);

	EXPECT_EXITS(sender, 0);
}

CASE(ipc, stream_send_to_a_closed_peer_raises_sigpipe, "ipc.socket.seqpacket-peer-closed-epipe-without-sigpipe")
{
	pid_t sender = send_to_closed_peer(SOCK_STREAM);

	EXPECT_KILLED_BY(sender, SIGPIPE);
}

CASE(ipc, fionread_counts_every_byte_on_stream_and_seqpacket_and_the_next_datagram_on_dgram,
     "ipc.socket.fionread-per-type")
{
	static const int want[] = { 8, 8, 3 };
	for (int t = 0; t < 3; t++) {
		int sv[2], inq = -1, outq = -1;
		pair(TYPES[t], sv);
		SAFE(send(sv[0], "abc", 3, 0));
		SAFE(send(sv[0], "defgh", 5, 0));

		SAFE(ioctl(sv[1], FIONREAD, &inq));

		SAFE(ioctl(sv[0], SIOCOUTQ, &outq));
		char key[32];
		snprintf(key, sizeof key, "fionread_%s", TYPE_NAMES[t]);
		hx_evidence(key, "%d", inq);
		snprintf(key, sizeof key, "siocoutq_%s", TYPE_NAMES[t]);
		hx_evidence(key, "%d", outq);
		cr_expect_eq(inq, want[t], "%s: FIONREAD %d, expected %d", TYPE_NAMES[t], inq, want[t]);
		close_pair(sv);
	}
}

CASE(ipc, receive_into_a_short_buffer_truncates_a_message_and_sets_msg_trunc, "ipc.socket.truncation-sets-msg-trunc")
{
	for (int t = 1; t < 3; t++) {
		int sv[2];
		char buf[2];
		pair(TYPES[t], sv);
		SAFE(send(sv[0], "abcdef", 6, 0));
		SAFE(send(sv[0], "ghijkl", 6, 0));
		struct iovec iov = { buf, sizeof buf };
		struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };

		ssize_t n = recvmsg(sv[1], &msg, 0);
		ssize_t real = recv(sv[1], buf, sizeof buf, MSG_TRUNC);

		char key[32];
		snprintf(key, sizeof key, "%s", TYPE_NAMES[t]);
		hx_evidence(key, "got=%zd,msg_trunc=%d,with_MSG_TRUNC=%zd", n, !!(msg.msg_flags & MSG_TRUNC), real);
		cr_expect(n == 2 && (msg.msg_flags & MSG_TRUNC), "%s: recvmsg returned %zd, flags %#x", key, n, msg.msg_flags);
		cr_expect_eq(real, 6, "%s: recv with MSG_TRUNC returned %zd", key, real);
		close_pair(sv);
	}
}

CASE(ipc, msg_peek_returns_the_data_and_the_next_receive_gets_it_again, "ipc.socket.msg-peek-leaves-data")
{
	static const int want[] = { 8, 3, 3 };
	for (int t = 0; t < 3; t++) {
		int sv[2];
		char peek[16] = "", got[16] = "";
		pair(TYPES[t], sv);
		SAFE(send(sv[0], "abc", 3, 0));
		SAFE(send(sv[0], "defgh", 5, 0));

		ssize_t p = recv(sv[1], peek, sizeof peek, MSG_PEEK);
		ssize_t r = recv(sv[1], got, sizeof got, 0);

		char key[32];
		snprintf(key, sizeof key, "%s", TYPE_NAMES[t]);
		hx_evidence(key, "peek=%zd,recv=%zd", p, r);
		cr_expect(p == want[t] && r == p && !memcmp(peek, got, (size_t)want[t]),
			  "%s: peek %zd '%s', then recv %zd '%s'", key, p, peek, r, got);
		close_pair(sv);
	}
}

static struct ucred peer_of(int fd)
{
	struct ucred cred = { 0 };
	socklen_t len = sizeof cred;
	SAFE(getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len));
	return cred;
}

/* An abstract name: no file, so no directory permission stands between
 * the unprivileged child and the socket. */
CASE(ipc, so_peercred_names_the_connecting_process_even_after_it_exited, "ipc.socket.so-peercred-is-the-connecting-process",
     NEEDS("root"))
{
	int sv[2];
	pair(SOCK_STREAM, sv);
	struct ucred own = peer_of(sv[0]);
	cr_assert(own.pid == getpid() && own.uid == getuid(), "socketpair peer %d/%d", (int)own.pid, (int)own.uid);
	close_pair(sv);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(sa.sun_path + 1, sizeof sa.sun_path - 1, "ipcproof-peercred-%d", (int)getpid());
	socklen_t len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + strlen(sa.sun_path + 1));
	int server = (int)SAFE(socket(AF_UNIX, SOCK_STREAM, 0));
	SAFE(bind(server, (struct sockaddr *)&sa, len));
	SAFE(listen(server, 1));
	pid_t child;
	IN_CHILD(child) {
		CHILD_EXPECT(setgid(65534) == 0 && setuid(65534) == 0, "dropping to 65534: %s", hx_errno_name(errno));
		int c = socket(AF_UNIX, SOCK_STREAM, 0);
		CHILD_EXPECT(connect(c, (struct sockaddr *)&sa, len) == 0, "connect: %s", hx_errno_name(errno));
	}
	int conn = (int)SAFE(accept(server, NULL, NULL));

	struct ucred live = peer_of(conn);
	EXPECT_EXITS(child, 0);
	struct ucred after = peer_of(conn);

	hx_evidence("peer", "pid_is_child=%d,uid=%d,gid=%d", live.pid == child, (int)live.uid, (int)live.gid);
	cr_assert(live.pid == child && live.uid == 65534 && live.gid == 65534, "peer %d/%d/%d, the child was %d",
		  (int)live.pid, (int)live.uid, (int)live.gid, (int)child);
	cr_assert(after.pid == live.pid && after.uid == live.uid, "after the child exited: %d/%d", (int)after.pid,
		  (int)after.uid);
	close(conn);
	close(server);
}

/* Sends one byte with the claimed credentials (or none: plain send). */
static ssize_t send_cred(int fd, const struct ucred *claim)
{
	union {
		char buf[CMSG_SPACE(sizeof(struct ucred))];
		struct cmsghdr align;
	} u;
	struct iovec iov = { "c", 1 };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	if (claim) {
		msg.msg_control = u.buf;
		msg.msg_controllen = sizeof u.buf;
		struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_CREDENTIALS;
		c->cmsg_len = CMSG_LEN(sizeof *claim);
		memcpy(CMSG_DATA(c), claim, sizeof *claim);
	}
	return sendmsg(fd, &msg, 0);
}

static struct ucred received_cred(int fd)
{
	union {
		char buf[CMSG_SPACE(sizeof(struct ucred))];
		struct cmsghdr align;
	} u;
	char b;
	struct iovec iov = { &b, 1 };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf };
	struct ucred cred = { -1, (uid_t)-1, (gid_t)-1 };
	SAFE(recvmsg(fd, &msg, 0));
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
	if (c && c->cmsg_type == SCM_CREDENTIALS)
		memcpy(&cred, CMSG_DATA(c), sizeof cred);
	return cred;
}

CASE(ipc, scm_credentials_are_the_senders_unless_a_privileged_sender_claims_others,
     "ipc.socket.scm-credentials-checked-by-the-kernel", NEEDS("root"))
{
	int sv[2], on = 1;
	pair(SOCK_DGRAM, sv);
	SAFE(setsockopt(sv[1], SOL_SOCKET, SO_PASSCRED, &on, sizeof on));
	pid_t child;
	IN_CHILD(child) {
		CHILD_EXPECT(setgid(65534) == 0 && setuid(65534) == 0, "dropping to 65534: %s", hx_errno_name(errno));
		struct ucred lie = { 1, 0, 0 };
		ssize_t r = send_cred(sv[0], &lie);
		hx_evidence("unprivileged_claim", "%s", r < 0 ? hx_errno_name(errno) : "sent");
		CHILD_EXPECT(r == -1 && errno == EPERM, "claiming pid 1, uid 0: %zd (%s)", r, hx_errno_name(errno));
		CHILD_EXPECT(send_cred(sv[0], NULL) == 1, "plain send: %s", hx_errno_name(errno));
	}
	EXPECT_EXITS(child, 0);

	struct ucred from_child = received_cred(sv[1]);
	struct ucred claim = { 1, 1234, 0 };
	cr_assert_eq(send_cred(sv[0], &claim), 1, "root claiming pid 1, uid 1234: %s", hx_errno_name(errno));
	struct ucred claimed = received_cred(sv[1]);

	hx_evidence("from_child", "pid_is_child=%d,uid=%d", from_child.pid == child, (int)from_child.uid);
	/* A pid as whose it is: a number would differ from run to run. */
	char pid_was[32];
	snprintf(pid_was, sizeof pid_was, claimed.pid == getpid() ? "the_senders" : "%d", (int)claimed.pid);
	hx_evidence("root_claim", "pid=%s,uid=%d", pid_was, (int)claimed.uid);
	cr_assert(from_child.pid == child && from_child.uid == 65534, "the child's message carried %d/%d",
		  (int)from_child.pid, (int)from_child.uid);
	cr_assert(claimed.pid == 1 && claimed.uid == 1234, "the root claim arrived as %d/%d", (int)claimed.pid,
		  (int)claimed.uid);
	close_pair(sv);
}

/* The lowest free descriptor number: where the kernel installs the next. */
static int lowest_free(void)
{
	int fd = (int)SAFE(dup(0));
	close(fd);
	return fd;
}

CASE(ipc, scm_rights_into_a_short_control_buffer_sets_msg_ctrunc_and_closes_the_excess,
     "ipc.socket.scm-rights-excess-fds-closed-with-msg-ctrunc")
{
	int sv[2], fds[2];
	pair(SOCK_DGRAM, sv);
	hx_pipe(fds);
	union {
		char buf[CMSG_SPACE(2 * sizeof(int))];
		struct cmsghdr align;
	} out, in;
	struct iovec iov = { "r", 1 };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = out.buf, .msg_controllen = sizeof out.buf };
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof fds);
	memcpy(CMSG_DATA(c), fds, sizeof fds);
	SAFE(sendmsg(sv[0], &msg, 0));
	char b;
	struct iovec riov = { &b, 1 };
	struct msghdr rmsg = { .msg_iov = &riov, .msg_iovlen = 1, .msg_control = in.buf,
			       .msg_controllen = CMSG_LEN(sizeof(int)) };	/* room for one, not two */
	/* The two numbers the kernel would install two descriptors at. */
	int first = (int)SAFE(dup(0)), second = lowest_free();
	close(first);

	SAFE(recvmsg(sv[1], &rmsg, 0));

	struct cmsghdr *rc = CMSG_FIRSTHDR(&rmsg);
	int got = rc ? (int)((rc->cmsg_len - CMSG_LEN(0)) / sizeof(int)) : 0, installed = -1;
	if (got)
		memcpy(&installed, CMSG_DATA(rc), sizeof installed);
	bool second_open = fcntl(second, F_GETFD) != -1;
	hx_evidence("msg_ctrunc", "%d", !!(rmsg.msg_flags & MSG_CTRUNC));
	hx_evidence("fds_in_message", "%d", got);
	hx_evidence("second_installed", "%s", second_open ? "yes" : "no");
	cr_assert(rmsg.msg_flags & MSG_CTRUNC, "no MSG_CTRUNC (flags %#x)", rmsg.msg_flags);
	cr_assert(got == 1 && installed == first, "%d descriptors in the message, the first %d (lowest free %d)", got,
		  installed, first);
	cr_assert(!second_open, "descriptor %d is open: the excess one was installed", second);
	close(installed);
	close(fds[0]);
	close(fds[1]);
	close_pair(sv);
}

static socklen_t abstract(struct sockaddr_un *sa, const char *name)
{
	memset(sa, 0, sizeof *sa);
	sa->sun_family = AF_UNIX;
	snprintf(sa->sun_path + 1, sizeof sa->sun_path - 1, "ipcproof-%d-%s", (int)getpid(), name);
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + strlen(sa->sun_path + 1));
}

static const char *bind_result(int fd, const struct sockaddr_un *sa, socklen_t len)
{
	return bind(fd, (const struct sockaddr *)sa, len) == 0 ? "ok" : hx_errno_name(errno);
}

CASE(ipc, abstract_name_is_free_once_its_socket_closes_and_a_path_stays_taken_until_unlinked,
     "ipc.socket.abstract-names-and-stale-paths")
{
	struct sockaddr_un sa;
	socklen_t len = abstract(&sa, "abstract");
	int a = (int)SAFE(socket(AF_UNIX, SOCK_STREAM, 0)), b = (int)SAFE(socket(AF_UNIX, SOCK_STREAM, 0));
	SAFE(bind(a, (struct sockaddr *)&sa, len));

	const char *while_open = bind_result(b, &sa, len);
	close(a);
	const char *after_close = bind_result(b, &sa, len);

	hx_evidence("abstract", "while_open=%s,after_close=%s", while_open, after_close);
	cr_assert_str_eq(while_open, "EADDRINUSE");
	cr_assert_str_eq(after_close, "ok", "the abstract name is still taken after its socket closed");
	close(b);
	/* Relative paths in the private directory: its absolute path may be
	 * longer than sun_path holds. */
	char dir[4096];
	snprintf(dir, sizeof dir, "%s", hx_path("sock"));
	*strrchr(dir, '/') = '\0';
	int plain = (int)SAFE(open(hx_path("plain"), O_CREAT | O_RDWR, 0600));
	close(plain);
	pid_t child;
	IN_CHILD(child) {
		struct sockaddr_un path, file;
		CHILD_EXPECT(chdir(dir) == 0, "chdir: %s", hx_errno_name(errno));
		socklen_t plen = address(&path, "sock"), flen = address(&file, "plain");
		int s = socket(AF_UNIX, SOCK_STREAM, 0), again = socket(AF_UNIX, SOCK_STREAM, 0);
		int c1 = socket(AF_UNIX, SOCK_STREAM, 0), c2 = socket(AF_UNIX, SOCK_STREAM, 0);
		CHILD_EXPECT(bind(s, (struct sockaddr *)&path, plen) == 0, "bind: %s", hx_errno_name(errno));
		close(s);
		const char *rebind = bind_result(again, &path, plen);
		const char *conn = connect(c1, (struct sockaddr *)&path, plen) ? hx_errno_name(errno) : "ok";
		const char *to_file = connect(c2, (struct sockaddr *)&file, flen) ? hx_errno_name(errno) : "ok";
		unlink("sock");
		const char *after_unlink = bind_result(again, &path, plen);
		hx_evidence("pathname", "rebind=%s,connect=%s,connect_to_a_file=%s,bind_after_unlink=%s", rebind, conn,
			    to_file, after_unlink);
		CHILD_EXPECT(!strcmp(rebind, "EADDRINUSE") && !strcmp(conn, "ECONNREFUSED") &&
				     !strcmp(to_file, "ECONNREFUSED") && !strcmp(after_unlink, "ok"),
			     "rebind %s, connect %s, connect to a file %s, bind after unlink %s", rebind, conn, to_file,
			     after_unlink);
	}
	EXPECT_EXITS(child, 0);
}

/* The socket file sits in a 0755 directory of the case's own, reached by
 * the unprivileged child through a descriptor it inherits (the private
 * directory above it is 0700). */
CASE(ipc, connect_to_a_socket_file_needs_write_permission_on_it, "ipc.socket.connect-needs-write-permission-on-the-socket-file",
     NEEDS("root"))
{
	SAFE(mkdir(hx_path("pub"), 0755));
	int dirfd = (int)SAFE(open(hx_path("pub"), O_PATH | O_DIRECTORY));
	char via[64];
	snprintf(via, sizeof via, "/proc/self/fd/%d/sock", dirfd);
	struct sockaddr_un sa;
	socklen_t len = address(&sa, via);
	int server = (int)SAFE(socket(AF_UNIX, SOCK_STREAM, 0));
	mode_t old = umask(022);
	SAFE(bind(server, (struct sockaddr *)&sa, len));
	umask(old);
	SAFE(listen(server, 2));
	pid_t child;
	IN_CHILD(child) {
		CHILD_EXPECT(setgid(65534) == 0 && setuid(65534) == 0, "dropping to 65534: %s", hx_errno_name(errno));
		int c = socket(AF_UNIX, SOCK_STREAM, 0);
		int r = connect(c, (struct sockaddr *)&sa, len);
		hx_evidence("mode_0755", "%s", r ? hx_errno_name(errno) : "connected");
		CHILD_EXPECT(r == -1 && errno == EACCES, "connect to a 0755 socket: %s", r ? hx_errno_name(errno) : "connected");
		hx_checkpoint_wake(0);
		hx_checkpoint_wait(1);
		r = connect(c, (struct sockaddr *)&sa, len);
		hx_evidence("mode_0777", "%s", r ? hx_errno_name(errno) : "connected");
		CHILD_EXPECT(r == 0, "connect to a 0777 socket: %s", hx_errno_name(errno));
	}
	if (!hx_checkpoint_try_wait(0, hx_bound_s()))
		EXPECT_EXITS(child, 0);	/* says why the child stopped short */

	SAFE(chmod(hx_path("pub/sock"), 0777));
	hx_checkpoint_wake(1);

	EXPECT_EXITS(child, 0);
	close(server);
	close(dirfd);
}
