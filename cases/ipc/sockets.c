/* Local (AF_UNIX) sockets: both ways on one pair, message boundaries by
 * socket type, and nothing lost or reordered, even when the receiver
 * falls behind. */
#include "ipcproof.h"

#include <poll.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/un.h>

CASE(ipc, both_ends_of_a_unix_socket_pair_send_and_receive_at_the_same_time, "ipc.methods.socket")
{
	int sv[2];
	char buf[16] = "";
	SAFE(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	pid_t child;
	IN_CHILD(child) {
		char got[16] = "";
		close(sv[0]);
		CHILD_EXPECT(send(sv[1], "from child", 10, 0) == 10, "send: %s", hx_errno_name(errno));
		CHILD_EXPECT(recv(sv[1], got, sizeof got - 1, MSG_WAITALL) == 11 &&
			     strcmp(got, "from parent") == 0, "the child got \"%s\"", got);
	}
	close(sv[1]);

	/* Both send before either receives: the two directions are apart. */
	ssize_t sent = send(sv[0], "from parent", 11, 0);
	ssize_t got = recv(sv[0], buf, 10, MSG_WAITALL);

	close(sv[0]);
	hx_evidence("parent_got", "%s", buf);
	cr_assert_eq(sent, 11);
	cr_assert_eq(got, 10);
	cr_assert_str_eq(buf, "from child");
	EXPECT_EXITS(child, 0);
}

/* A child sends 3 bytes and then 5 and exits; both are queued before the
 * first receive, which offers room for both.  Returns the two sizes. */
static void two_sends_then_receive(int type, ssize_t got[2])
{
	int sv[2];
	char buf[64];
	SAFE(socketpair(AF_UNIX, type, 0, sv));
	pid_t sender;
	IN_CHILD(sender) {
		CHILD_EXPECT(send(sv[1], "abc", 3, 0) == 3, "send: %s", hx_errno_name(errno));
		CHILD_EXPECT(send(sv[1], "defgh", 5, 0) == 5, "send: %s", hx_errno_name(errno));
	}
	close(sv[1]);
	EXPECT_EXITS(sender, 0);
	got[0] = recv(sv[0], buf, sizeof buf, 0);
	got[1] = recv(sv[0], buf, sizeof buf, MSG_DONTWAIT);
	close(sv[0]);
	hx_evidence("sent", "3,5");
	hx_evidence("received", "%zd,%zd", got[0], got[1]);
}

CASE(ipc, seqpacket_socket_keeps_message_boundaries, "ipc.methods.socket")
{
	ssize_t got[2];
	two_sends_then_receive(SOCK_SEQPACKET, got);
	cr_assert(got[0] == 3 && got[1] == 5, "received %zd then %zd", got[0], got[1]);
}

CASE(ipc, datagram_socket_keeps_message_boundaries, "ipc.methods.socket")
{
	ssize_t got[2];
	two_sends_then_receive(SOCK_DGRAM, got);
	cr_assert(got[0] == 3 && got[1] == 5, "received %zd then %zd", got[0], got[1]);
}

/* The second receive finds nothing left (EOF from the exited sender). */
CASE(ipc, stream_socket_returns_two_sends_in_one_receive, "ipc.methods.socket")
{
	ssize_t got[2];
	two_sends_then_receive(SOCK_STREAM, got);
	cr_assert(got[0] == 8 && got[1] == 0, "received %zd then %zd", got[0], got[1]);
}

/* ---- reliable and ordered ---------------------------------------------- */

/* Far more than the socket buffers hold: the sender has to wait for the
 * receiver many times over. */
enum { MESSAGES = 20000 };

/* Numbers go BATCH to a sendmmsg and come back up to BATCH a receive: each
 * is still a message of its own (sendmmsg is a sendmsg per message), so
 * the buffers fill and the sender waits as often as with one send each,
 * with far fewer system calls (one a message took UML and gVisor seconds). */
enum { BATCH = 256 };

struct numbers {
	uint32_t n[BATCH];
	struct iovec iov[BATCH];
	struct mmsghdr msg[BATCH];
};

/* Points the batch's messages at its numbers, one number each: first,
 * first + 1, ... (the numbers are set only where first is not -1). */
static void batch_init(struct numbers *b, int64_t first)
{
	memset(b->msg, 0, sizeof b->msg);
	for (int i = 0; i < BATCH; i++) {
		if (first >= 0)
			b->n[i] = (uint32_t)(first + i);
		b->iov[i] = (struct iovec){ &b->n[i], sizeof b->n[i] };
		b->msg[i].msg_hdr.msg_iov = &b->iov[i];
		b->msg[i].msg_hdr.msg_iovlen = 1;
	}
}

/* Sends the numbers first .. first + count - 1 (count <= BATCH), a message
 * each; sendmmsg's return: how many went, or -1 with errno. */
static int send_numbers(int fd, uint32_t first, int count, int flags)
{
	struct numbers b;
	batch_init(&b, first);
	return sendmmsg(fd, b.msg, (unsigned)count, flags);
}

/* What stands for a message that is not one whole number (a datagram of
 * another size, a stream's cut-off tail): out of place, never the mark. */
#define NOT_A_NUMBER UINT32_MAX

/* The first datagram of a receive (MSG_TRUNC: a longer one tells its real
 * length), waited for until the sender has ended with nothing left queued:
 * a datagram socketpair has no end of file, and a lost end mark would be
 * waited for forever.  A datagram is queued by the send that sent it, so
 * once the sender has ended, all it sent is there. */
static ssize_t first_datagram(int fd, uint32_t *got, pid_t sender)
{
	for (;;) {
		bool ended = hx_has_ended(sender);
		ssize_t r = recv(fd, got, sizeof *got, MSG_TRUNC | MSG_DONTWAIT);
		if (r >= 0 || (errno != EAGAIN && errno != EWOULDBLOCK) || ended)
			return r;
		poll(&(struct pollfd){ .fd = fd, .events = POLLIN }, 1, 10);
	}
}

/* Receives into got[] what one receive gives (BATCH at most, at least one
 * unless the stream ends or the receive fails): a stream's numbers (read
 * until the batch is full or the stream ends); datagrams, one number each:
 * one waited for, then those already queued (not MSG_WAITFORONE: this
 * gVisor fails it with EINVAL).  Returns how many. */
static int receive_numbers(int fd, int type, pid_t sender, uint32_t got[BATCH])
{
	if (type == SOCK_STREAM) {
		/* a number short of the batch: room for a cut-off tail */
		ssize_t r = hx_read_all(fd, got, (BATCH - 1) * sizeof *got);
		if (r <= 0)
			return 0;
		int n = (int)(r / (ssize_t)sizeof *got);
		if (r % (ssize_t)sizeof *got)
			got[n++] = NOT_A_NUMBER;
		return n;
	}
	ssize_t r = first_datagram(fd, got, sender);
	if (r < 0)
		return 0;
	if (r != sizeof *got)
		got[0] = NOT_A_NUMBER;
	struct numbers b;
	batch_init(&b, -1);
	int n = recvmmsg(fd, b.msg, BATCH - 1, MSG_DONTWAIT, NULL);
	for (int i = 0; i < n; i++)
		got[i + 1] = b.msg[i].msg_len == sizeof *got && !(b.msg[i].msg_hdr.msg_flags & MSG_TRUNC) ?
			b.n[i] : NOT_A_NUMBER;
	return n > 0 ? n + 1 : 1;
}

/* A child sends the numbers 0..MESSAGES-1, one per message, then MESSAGES
 * as the end mark (a datagram receiver would otherwise wait forever for a
 * lost one); the case receives up to the mark and counts those out of
 * place. */
static void numbered_messages(int type)
{
	int sv[2];
	SAFE(socketpair(AF_UNIX, type, 0, sv));
	pid_t sender;
	IN_CHILD(sender) {
		close(sv[0]);
		for (uint32_t first = 0; first <= MESSAGES; first += BATCH) {
			int count = MESSAGES + 1 - first < BATCH ? (int)(MESSAGES + 1 - first) : BATCH;
			int sent = send_numbers(sv[1], first, count, 0);
			/* a short count leaves errno alone: the error went unreported */
			CHILD_EXPECT(sent == count, "sendmmsg of %u..%u: %s", first, first + count - 1,
				     sent < 0 ? hx_errno_name(errno) : "fewer sent, the error unreported");
		}
	}
	close(sv[1]);

	uint32_t next = 0, got[BATCH], out_of_place = 0;
	bool marked = false;
	for (int n; !marked && (n = receive_numbers(sv[0], type, sender, got)) > 0;)
		for (int i = 0; i < n && !(marked = got[i] == MESSAGES); i++)
			out_of_place += got[i] != next++;

	close(sv[0]);
	EXPECT_EXITS(sender, 0);
	hx_evidence("sent", "%d", MESSAGES);
	hx_evidence("received", "%u", next);
	hx_evidence("out_of_place", "%u", out_of_place);
	cr_assert_eq(next, MESSAGES, "received %u of %d", next, MESSAGES);
	cr_assert_eq(out_of_place, 0);
	cr_assert(marked, "every number came, the end mark did not");
}

CASE(ipc, stream_socket_delivers_every_message_in_order, "ipc.socket.most-stable")
{
	numbered_messages(SOCK_STREAM);
}

CASE(ipc, datagram_socket_delivers_every_datagram_in_order, "ipc.socket.most-stable")
{
	numbered_messages(SOCK_DGRAM);
}

/* The sysctl, or -1 where the kernel has none. */
static long max_dgram_qlen(void)
{
	long n = -1;
	FILE *f = fopen("/proc/sys/net/unix/max_dgram_qlen", "re");
	if (f) {
		if (fscanf(f, "%ld", &n) != 1)
			n = -1;
		fclose(f);
	}
	return n;
}

/* A receiving socket bound to a path, a sender connected to it: the
 * receive queue has a length limit (net.unix.max_dgram_qlen). */
CASE(ipc, datagram_sender_blocks_on_a_full_receiver_until_a_receive_makes_room, "ipc.socket.most-stable")
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	snprintf(addr.sun_path, sizeof addr.sun_path, "%s", hx_path("rx"));
	int rx = SAFE(socket(AF_UNIX, SOCK_DGRAM, 0));
	int tx = SAFE(socket(AF_UNIX, SOCK_DGRAM, 0));
	SAFE(bind(rx, (struct sockaddr *)&addr, sizeof addr));
	SAFE(connect(tx, (struct sockaddr *)&addr, sizeof addr));
	/* Whole batches while they go (gVisor's queue takes some 50000
	 * datagrams), then one send at a time: the send that fails first is
	 * the one whose error is kept (a short batch drops it). */
	uint32_t queued = 0;
	int sent;
	while ((sent = send_numbers(tx, queued, BATCH, MSG_DONTWAIT)) == BATCH)
		queued += BATCH;
	queued += sent > 0 ? (uint32_t)sent : 0;
	while (send(tx, &queued, sizeof queued, MSG_DONTWAIT) == sizeof queued)
		queued++;
	int full_errno = errno;
	/* Before the expectations, so that a sender that never blocks or never
	 * wakes is reported with how full the queue was. */
	hx_evidence("filled_with", "%u", queued);
	hx_evidence("max_dgram_qlen", "%ld", max_dgram_qlen());
	hx_evidence("full_errno", "%s", hx_errno_name(full_errno));
	pid_t sender;
	IN_CHILD(sender) {
		ssize_t n = send(tx, &queued, sizeof queued, 0);
		CHILD_EXPECT(n == sizeof queued, "send: %s", hx_errno_name(errno));
	}
	EXPECT_BLOCKED_IN(sender, "sendto");

	uint32_t got;
	cr_assert_eq(recv(rx, &got, sizeof got, 0), (ssize_t)sizeof got);

	EXPECT_EXITS(sender, 0);
	uint32_t next = 1, out_of_place = got != 0;
	while (recv(rx, &got, sizeof got, MSG_DONTWAIT) == sizeof got)
		out_of_place += got != next++;
	close(rx);
	close(tx);
	hx_evidence("received", "%u", next);
	hx_evidence("out_of_place", "%u", out_of_place);
	cr_assert_eq(full_errno, EAGAIN);
	/* The limit the truth names: one more than net.unix.max_dgram_qlen. */
	if (max_dgram_qlen() >= 0)
		cr_assert_eq((long)queued, max_dgram_qlen() + 1, "the queue took %u datagrams, max_dgram_qlen is %ld",
			     queued, max_dgram_qlen());
	cr_assert_eq(next, queued + 1, "received %u of %u", next, queued + 1);
	cr_assert_eq(out_of_place, 0);
}
