/* Through the kernel: a pipe copies the bytes into a kernel buffer when
 * write() is called; shared memory needs the kernel only to set it up. */
#include "ipcproof.h"

#include <fcntl.h>
#include <linux/filter.h>
#include <mqueue.h>
#include <linux/seccomp.h>
#include <stdatomic.h>
#include <stddef.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>

static const char message[] = "copied when write returned";

static int queued(int fd)
{
	int n = -1;
	if (ioctl(fd, FIONREAD, &n) == -1)
		hx_broken("FIONREAD: %s", strerror(errno));
	return n;
}

/* A child that waits for the sender's checkpoint and only then reads
 * ends[0], expecting message; ends[1] stays the case's. */
static pid_t receiver_after_go(int ends[2])
{
	pid_t reader;
	IN_CHILD(reader) {
		char buf[sizeof message] = "";
		close(ends[1]);
		hx_checkpoint_wait(0);
		ssize_t n = hx_read_all(ends[0], buf, sizeof buf);
		hx_evidence("reader_got", "%.*s", (int)sizeof buf - 1, buf);
		CHILD_EXPECT(n == sizeof buf && memcmp(buf, message, sizeof buf) == 0,
			     "the reader got %zd bytes: \"%.*s\"", n, (int)sizeof buf - 1, buf);
	}
	close(ends[0]);
	return reader;
}

/* The same over a new pipe, data. */
static pid_t reader_after_go(int data[2])
{
	hx_pipe(data);
	return receiver_after_go(data);
}

CASE(ipc, writer_may_overwrite_its_buffer_once_write_returns, "ipc.kernel.buffer-copy")
{
	int data[2];
	char buf[sizeof message];
	memcpy(buf, message, sizeof buf);
	pid_t reader = reader_after_go(data);

	ssize_t n = hx_write_all(data[1], buf, sizeof buf);
	memset(buf, 'x', sizeof buf);
	hx_checkpoint_wake(0);

	close(data[1]);
	hx_evidence("writer_buffer_when_read", "%.*s", (int)sizeof buf - 1, buf);
	cr_assert_eq(n, (ssize_t)sizeof buf);
	EXPECT_EXITS(reader, 0);
}

CASE(ipc, writer_may_unmap_its_buffer_once_write_returns, "ipc.kernel.buffer-copy")
{
	int data[2];
	long page = hx_page_size();
	char *buf = (char *)SAFE(mmap(NULL, page, PROT_READ | PROT_WRITE,
					   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
	memcpy(buf, message, sizeof message);
	pid_t reader = reader_after_go(data);

	ssize_t n = hx_write_all(data[1], buf, sizeof message);
	EXPECT_OK(munmap(buf, page));
	hx_checkpoint_wake(0);

	close(data[1]);
	hx_evidence("writer_buffer_when_read", "unmapped");
	cr_assert_eq(n, (ssize_t)sizeof message);
	EXPECT_EXITS(reader, 0);
}

CASE(ipc, bytes_written_are_read_after_the_writer_process_has_exited, "ipc.kernel.buffer-copy")
{
	int p[2];
	char buf[sizeof message] = "";
	hx_pipe(p);
	pid_t writer = hx_child_writes(p[1], p[0], message, sizeof message);
	EXPECT_EXITS(writer, 0);

	ssize_t n = hx_read_all(p[0], buf, sizeof buf);

	close(p[0]);
	hx_evidence("read_after_writer_exit", "%zd", n);
	cr_assert_eq(n, (ssize_t)sizeof buf);
	cr_assert_str_eq(buf, message);
}

CASE(ipc, written_bytes_wait_in_the_kernel_until_a_read_takes_them_out, "ipc.kernel.buffer-copy")
{
	int p[2];
	char buf[sizeof message];
	hx_pipe(p);
	pid_t writer;
	IN_CHILD(writer) {
		close(p[0]);
		CHILD_EXPECT(hx_write_all(p[1], message, sizeof message) == sizeof message, "short write");
	}
	EXPECT_EXITS(writer, 0);
	int queued_before = queued(p[0]);

	ssize_t n = read(p[0], buf, sizeof buf);

	int queued_after = queued(p[0]);
	close(p[0]);
	close(p[1]);
	hx_evidence("queued_before_read", "%d", queued_before);
	hx_evidence("queued_after_read", "%d", queued_after);
	cr_assert_eq(queued_before, (int)sizeof message);
	cr_assert_eq(n, (ssize_t)sizeof message);
	cr_assert_eq(queued_after, 0);
}

/* ---- likewise a socket and a message queue ------------------------------ */

/* The truth says sockets and message queues copy as a pipe does: the same
 * two checks on each: the sender's buffer changed the moment the call
 * returned, and the sender gone before anything is read. */

CASE(ipc, socket_sender_may_overwrite_its_buffer_once_send_returns, "ipc.kernel.buffer-copy")
{
	int sv[2];
	char buf[sizeof message];
	memcpy(buf, message, sizeof buf);
	SAFE(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	pid_t receiver = receiver_after_go(sv);

	ssize_t n = send(sv[1], buf, sizeof buf, 0);
	memset(buf, 'x', sizeof buf);
	hx_checkpoint_wake(0);

	EXPECT_EXITS(receiver, 0);
	close(sv[1]);
	cr_assert_eq(n, (ssize_t)sizeof buf);
}

CASE(ipc, socket_bytes_wait_in_the_kernel_after_the_sender_has_exited, "ipc.kernel.buffer-copy")
{
	int sv[2];
	char buf[sizeof message] = "";
	SAFE(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	pid_t sender = hx_child_writes(sv[1], sv[0], message, sizeof message);
	EXPECT_EXITS(sender, 0);
	int before = queued(sv[0]);

	ssize_t n = hx_read_all(sv[0], buf, sizeof buf);

	close(sv[0]);
	hx_evidence("siocinq_before_read", "%d", before);
	cr_assert_eq(before, (int)sizeof message);
	cr_assert_eq(n, (ssize_t)sizeof buf);
	cr_assert_str_eq(buf, message);
}

/* A queue with no name left (unlinked at once: nothing outlives the case);
 * children inherit its descriptor. */
static mqd_t private_queue(void)
{
	char name[64];
	struct mq_attr attr = { .mq_maxmsg = 4, .mq_msgsize = sizeof message };
	snprintf(name, sizeof name, "/ipcproof-%d-copy", (int)getpid());
	errno = 0;
	mqd_t q = mq_open(name, O_RDWR | O_CREAT | O_EXCL, 0600, &attr);
	if (q == (mqd_t)-1 && errno == ENOSYS)
		cr_skip_test("mq_open: ENOSYS, this kernel lacks POSIX message queues");
	if (q == (mqd_t)-1)
		hx_broken("mq_open %s: %s", name, hx_errno_name(errno));
	mq_unlink(name);
	return q;
}

CASE(ipc, message_queue_sender_may_overwrite_its_buffer_once_mq_send_returns, "ipc.kernel.buffer-copy")
{
	char buf[sizeof message];
	memcpy(buf, message, sizeof buf);
	mqd_t q = private_queue();
	pid_t receiver;
	IN_CHILD(receiver) {
		char got[sizeof message] = "";
		hx_checkpoint_wait(0);
		ssize_t n = mq_receive(q, got, sizeof got, NULL);
		CHILD_EXPECT(n == sizeof got && memcmp(got, message, sizeof got) == 0,
			     "the receiver got %zd bytes: \"%.*s\"", n, (int)sizeof got - 1, got);
	}

	int r = mq_send(q, buf, sizeof buf, 0);
	memset(buf, 'x', sizeof buf);
	hx_checkpoint_wake(0);

	EXPECT_EXITS(receiver, 0);
	mq_close(q);
	cr_assert_eq(r, 0, "mq_send: %s", hx_errno_name(errno));
}

CASE(ipc, message_queue_message_waits_in_the_kernel_after_the_sender_has_exited, "ipc.kernel.buffer-copy")
{
	char buf[sizeof message] = "";
	mqd_t q = private_queue();
	pid_t sender;
	IN_CHILD(sender) {
		CHILD_EXPECT(mq_send(q, message, sizeof message, 0) == 0, "mq_send: %s", hx_errno_name(errno));
	}
	EXPECT_EXITS(sender, 0);
	struct mq_attr attr;
	SAFE(mq_getattr(q, &attr));

	ssize_t n = mq_receive(q, buf, sizeof buf, NULL);

	mq_close(q);
	hx_evidence("mq_curmsgs_before_receive", "%ld", (long)attr.mq_curmsgs);
	cr_assert_eq(attr.mq_curmsgs, 1);
	cr_assert_eq(n, (ssize_t)sizeof buf);
	cr_assert_str_eq(buf, message);
}

/* ---- shared memory: no system call per transfer ----------------------- */

struct mailbox {
	atomic_int receiver_armed;
	atomic_int sent;
	char data[sizeof message];
};

enum { NO_SECCOMP = 3, WRONG_DATA = 4 };

/* From here on any system call but exit(2) kills the process with
 * SIGSYS: a process that ends by exiting made no other call. */
static void forbid_system_calls(void)
{
	struct sock_filter filter[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_exit, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
	};
	struct sock_fprog prog = { sizeof filter / sizeof filter[0], filter };
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1 ||
	    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) == -1) {
		hx_evidence("seccomp", "%s", hx_errno_name(errno));
		_exit(NO_SECCOMP);
	}
}

/* Both sides are forbidden every system call before the exchange starts:
 * the bytes cross with neither process entering the kernel. */
CASE(ipc, shared_mapping_carries_data_between_processes_that_make_no_system_call, "ipc.kernel.required")
{
	struct mailbox *box = (struct mailbox *)SAFE(
		mmap(NULL, sizeof *box, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0));
	memset(box, 0, sizeof *box);
	pid_t receiver, sender;
	IN_CHILD(receiver) {
		forbid_system_calls();
		atomic_store(&box->receiver_armed, 1);
		while (!atomic_load(&box->sent))
			;
		syscall(SYS_exit, memcmp(box->data, message, sizeof message) ? WRONG_DATA : 0);
	}
	IN_CHILD(sender) {
		forbid_system_calls();
		while (!atomic_load(&box->receiver_armed))
			;
		memcpy(box->data, message, sizeof message);
		atomic_store(&box->sent, 1);
		syscall(SYS_exit, 0);
	}

	struct hx_outcome r = hx_wait(receiver), s = hx_wait(sender);

	hx_evidence("receiver", "%s", r.text);
	hx_evidence("sender", "%s", s.text);
	hx_evidence("received", "%.*s", (int)sizeof message - 1, box->data);
	munmap(box, sizeof *box);
	if ((r.how == HX_EXITED && r.code == NO_SECCOMP) ||
	    (s.how == HX_EXITED && s.code == NO_SECCOMP))
		cr_skip_test("no seccomp filters here: %s", hx_evidence_str("seccomp"));
	cr_assert(s.how == HX_EXITED && s.code == 0, "sender %s", s.text);
	cr_assert(r.how == HX_EXITED && r.code == 0, "receiver %s", r.text);
}
