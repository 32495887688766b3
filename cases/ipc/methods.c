/* The notes' list of IPC methods: each one carries data from one process
 * to another on this kernel.  IPC objects outlive processes, so each is
 * removed before any expectation can end the case. */
#include "ipcproof.h"

#include <fcntl.h>
#include <mqueue.h>
#include <sys/mman.h>
#include <sys/msg.h>
#include <sys/shm.h>
#include <sys/socket.h>

static const char message[] = "from one process to another";

/* A POSIX IPC name ("/ipcproof-PID-what") no other case process uses.
 * Made before forking: a child's pid would name another object. */
static const char *object_name(const char *what)
{
	static char name[64];
	snprintf(name, sizeof name, "/ipcproof-%d-%s", (int)getpid(), what);
	return name;
}

/* Creating an IPC object failed: a kernel built without that kind of IPC
 * (ENOSYS) skips the case, anything else fails it. The errno is evidence. */
#define MADE_OR_SKIP(call, what) ({ \
	errno = 0; \
	long m_ = (long)(call); \
	if (m_ == -1) { \
		int e_ = errno; \
		hx_evidence("errno", "%s", hx_errno_name(e_)); \
		if (e_ == ENOSYS) \
			cr_skip_test("%s: %s, this kernel lacks it", what, hx_errno_name(e_)); \
		cr_assert_fail("%s: %s", what, hx_errno_name(e_)); \
	} \
	m_; })

/* The outcome of a child, checked after the case's clean-up. */
CASE(ipc, regular_file_carries_data_from_one_process_to_another, "ipc.methods.file")
{
	const char *path = hx_path("file");
	char buf[sizeof message] = "";
	pid_t writer;
	IN_CHILD(writer) {
		int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
		CHILD_EXPECT(fd >= 0, "open: %s", hx_errno_name(errno));
		CHILD_EXPECT(hx_write_all(fd, message, sizeof message) == sizeof message, "short write");
		close(fd);
	}
	EXPECT_EXITS(writer, 0);

	int fd = SAFE(open(path, O_RDONLY));
	ssize_t n = hx_read_all(fd, buf, sizeof buf);

	close(fd);
	hx_evidence("read", "%zd", n);
	cr_assert_eq(n, (ssize_t)sizeof message);
	cr_assert_str_eq(buf, message);
}

/* A child writes the message into fds[1]; this process reads all of it
 * from fds[0] (write(2) on a connected stream socket is send(2) without
 * flags). */
static void expect_carried(int fds[2], const char *evidence_key)
{
	char buf[sizeof message] = "";
	pid_t writer = hx_child_writes(fds[1], fds[0], message, sizeof message);

	ssize_t n = hx_read_all(fds[0], buf, sizeof buf);

	close(fds[0]);
	EXPECT_EXITS(writer, 0);
	hx_evidence(evidence_key, "%zd", n);
	cr_assert_eq(n, (ssize_t)sizeof message);
	cr_assert_str_eq(buf, message);
}

CASE(ipc, pipe_carries_data_from_one_process_to_another, "ipc.methods.pipe")
{
	int p[2];
	hx_pipe(p);
	expect_carried(p, "read");
}

CASE(ipc, unix_socket_pair_carries_data_from_one_process_to_another, "ipc.methods.socket")
{
	int sv[2];
	SAFE(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	expect_carried(sv, "received");
}

CASE(ipc, system_v_shared_memory_segment_carries_data_from_one_process_to_another, "ipc.methods.shared-memory")
{
	size_t size = (size_t)hx_page_size();
	int id = (int)MADE_OR_SKIP(shmget(IPC_PRIVATE, size, IPC_CREAT | 0600), "shmget");
	pid_t writer;
	IN_CHILD(writer) {
		char *mem = shmat(id, NULL, 0);
		CHILD_EXPECT(mem != (void *)-1, "shmat: %s", hx_errno_name(errno));
		memcpy(mem, message, sizeof message);
		shmdt(mem);
	}
	struct hx_outcome o = hx_wait(writer);

	char buf[sizeof message] = "";
	char *mem = shmat(id, NULL, SHM_RDONLY);
	if (mem != (void *)-1) {
		memcpy(buf, mem, sizeof buf);
		shmdt(mem);
	}
	shmctl(id, IPC_RMID, NULL);
	hx_evidence("read", "%.*s", (int)sizeof buf - 1, buf);
	EXPECT_OUTCOME_EXITS(o, writer, 0);
	cr_assert_str_eq(buf, message);
}

/* Nobody holds the object while it waits: the case closes its descriptor
 * at once, the writer exits; a later process finds the bytes by name, and
 * after shm_unlink the name is gone. */
CASE(ipc, posix_shared_memory_object_carries_data_from_one_process_to_another, "ipc.methods.shared-memory")
{
	size_t size = (size_t)hx_page_size();
	const char *name = object_name("shm");
	int fd = (int)MADE_OR_SKIP(shm_open(name, O_RDWR | O_CREAT | O_EXCL, 0600), "shm_open");
	int sized = ftruncate(fd, (off_t)size);
	close(fd);
	pid_t writer;
	IN_CHILD(writer) {
		int own = shm_open(name, O_RDWR, 0);
		CHILD_EXPECT(own >= 0, "shm_open by name: %s", hx_errno_name(errno));
		char *mem = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, own, 0);
		CHILD_EXPECT(mem != MAP_FAILED, "mmap: %s", hx_errno_name(errno));
		memcpy(mem, message, sizeof message);
		munmap(mem, size);
		close(own);
	}
	struct hx_outcome wrote = hx_wait(writer);
	pid_t reader;
	IN_CHILD(reader) {
		int own = shm_open(name, O_RDONLY, 0);
		CHILD_EXPECT(own >= 0, "shm_open by name after the writer: %s", hx_errno_name(errno));
		char *mem = mmap(NULL, size, PROT_READ, MAP_SHARED, own, 0);
		CHILD_EXPECT(mem != MAP_FAILED, "mmap: %s", hx_errno_name(errno));
		hx_evidence("read", "%.*s", (int)sizeof message - 1, mem);
		CHILD_EXPECT(memcmp(mem, message, sizeof message) == 0, "the object holds \"%.*s\"",
			     (int)sizeof message - 1, mem);
	}
	struct hx_outcome read_back = hx_wait(reader);

	int unlinked = shm_unlink(name);
	errno = 0;
	int again = shm_open(name, O_RDONLY, 0);
	int again_errno = errno;
	if (again >= 0)
		close(again);
	hx_evidence("name", "/ipcproof-PID-shm");
	hx_evidence("open_after_unlink", "%s", again >= 0 ? "opened" : hx_errno_name(again_errno));
	cr_assert_eq(sized, 0, "ftruncate failed");
	EXPECT_OUTCOME_EXITS(wrote, writer, 0);
	EXPECT_OUTCOME_EXITS(read_back, reader, 0);
	cr_assert_eq(unlinked, 0, "shm_unlink: %s", hx_errno_name(errno));
	cr_assert(again == -1 && again_errno == ENOENT, "after shm_unlink the name still opens (%s)",
		  again >= 0 ? "opened" : hx_errno_name(again_errno));
}

struct note {
	long mtype;
	char mtext[sizeof message];
};

CASE(ipc, system_v_message_queue_carries_a_message_from_one_process_to_another, "ipc.methods.message-queue")
{
	int id = (int)MADE_OR_SKIP(msgget(IPC_PRIVATE, IPC_CREAT | 0600), "msgget");
	pid_t sender;
	IN_CHILD(sender) {
		struct note out = { .mtype = 7 };
		memcpy(out.mtext, message, sizeof message);
		CHILD_EXPECT(msgsnd(id, &out, sizeof out.mtext, 0) == 0, "msgsnd: %s",
			     hx_errno_name(errno));
	}
	struct hx_outcome o = hx_wait(sender);

	struct note in = { 0 };
	ssize_t n = msgrcv(id, &in, sizeof in.mtext, 0, IPC_NOWAIT);
	int err = errno;
	msgctl(id, IPC_RMID, NULL);
	hx_evidence("received", "%zd", n);
	hx_evidence("mtype", "%ld", in.mtype);
	EXPECT_OUTCOME_EXITS(o, sender, 0);
	cr_assert_eq(n, (ssize_t)sizeof message, "msgrcv: %s", n < 0 ? hx_errno_name(err) : "short");
	cr_assert_eq(in.mtype, 7);
	cr_assert_str_eq(in.mtext, message);
}

CASE(ipc, posix_message_queue_carries_a_message_from_one_process_to_another, "ipc.methods.message-queue")
{
	const char *name = object_name("mq");
	struct mq_attr attr = { .mq_maxmsg = 4, .mq_msgsize = 64 };
	mqd_t q = (mqd_t)MADE_OR_SKIP(
		mq_open(name, O_RDONLY | O_NONBLOCK | O_CREAT | O_EXCL, 0600, &attr), "mq_open");
	pid_t sender;
	IN_CHILD(sender) {
		mqd_t own = mq_open(name, O_WRONLY);
		CHILD_EXPECT(own != (mqd_t)-1, "mq_open by name: %s", hx_errno_name(errno));
		CHILD_EXPECT(mq_send(own, message, sizeof message, 3) == 0, "mq_send: %s",
			     hx_errno_name(errno));
		mq_close(own);
	}
	struct hx_outcome o = hx_wait(sender);

	char buf[64] = "";
	unsigned prio = 0;
	ssize_t n = mq_receive(q, buf, sizeof buf, &prio);
	int err = errno;
	mq_close(q);
	mq_unlink(name);
	hx_evidence("name", "/ipcproof-PID-mq");
	hx_evidence("received", "%zd", n);
	hx_evidence("priority", "%u", prio);
	EXPECT_OUTCOME_EXITS(o, sender, 0);
	cr_assert_eq(n, (ssize_t)sizeof message, "mq_receive: %s", n < 0 ? hx_errno_name(err) : "short");
	cr_assert_eq(prio, 3);
	cr_assert_str_eq(buf, message);
}
