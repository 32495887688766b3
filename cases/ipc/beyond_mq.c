/* POSIX message queues and shared memory objects (mq_overview(7),
 * mq_send(3), mq_unlink(3), shm_overview(7), shm_open(3)). */
#include "ipcproof.h"
#include "../beyond_caps.h"

#include <fcntl.h>
#include <limits.h>
#include <mqueue.h>
#include <sys/mman.h>
#include <sys/stat.h>

static const char *own_name(const char *what)
{
	static char name[64];
	snprintf(name, sizeof name, "/ipcproof-%d-%s", (int)getpid(), what);
	return name;
}

CASE(ipc, mq_refuses_full_queues_short_buffers_long_messages_bad_priorities_and_names, "ipc.mq.errors")
{
	const char *name = own_name("mq");
	struct mq_attr attr = { .mq_maxmsg = 2, .mq_msgsize = 64 };
	mqd_t q = (mqd_t)SAFE(mq_open(name, O_CREAT | O_EXCL | O_RDWR | O_NONBLOCK, 0600, &attr));
	mq_unlink(name);
	char big[65] = "", small[32], buf[64];
	unsigned prio = 0;
	SAFE(mq_send(q, "low", 3, 1));
	SAFE(mq_send(q, "high", 4, 5));

	EXPECT_FAILS_WITH(mq_send(q, "x", 1, 0), EAGAIN);
	hx_evidence("full", "%s", hx_evidence_str("errno"));
	EXPECT_FAILS_WITH(mq_receive(q, small, sizeof small, NULL), EMSGSIZE);
	EXPECT_FAILS_WITH(mq_send(q, big, sizeof big, 0), EMSGSIZE);
	EXPECT_FAILS_WITH(mq_send(q, "x", 1, MQ_PRIO_MAX), EINVAL);
	EXPECT_FAILS_WITH(mq_open("ipcproof-no-slash", O_CREAT | O_RDWR, 0600, &attr), EINVAL);
	ssize_t n = mq_receive(q, buf, sizeof buf, &prio);

	hx_evidence("first_out", "%.*s@%u", n > 0 ? (int)n : 0, buf, prio);
	cr_assert(n == 4 && prio == 5, "the first message out: %zd bytes, priority %u", n, prio);
	mq_close(q);
}

CASE(ipc, unlinked_mq_keeps_working_through_an_open_descriptor_and_its_name_is_free,
     "ipc.mq.unlinked-queue-lives-while-open")
{
	const char *name = own_name("mq");
	struct mq_attr attr = { .mq_maxmsg = 2, .mq_msgsize = 16 }, now;
	mqd_t q = (mqd_t)SAFE(mq_open(name, O_CREAT | O_EXCL | O_RDWR | O_NONBLOCK, 0600, &attr));
	char buf[16];

	SAFE(mq_unlink(name));

	EXPECT_OK(mq_getattr(q, &now));
	EXPECT_OK(mq_send(q, "still", 5, 0));
	cr_assert_eq(mq_receive(q, buf, sizeof buf, NULL), 5);
	EXPECT_FAILS_WITH(mq_open(name, O_RDWR), ENOENT);
	mqd_t again = mq_open(name, O_CREAT | O_EXCL | O_RDWR, 0600, &attr);
	hx_evidence("name_reused", "%s", again == (mqd_t)-1 ? hx_errno_name(errno) : "ok");
	cr_assert(again != (mqd_t)-1, "the name is not free: %s", hx_errno_name(errno));
	mq_close(again);
	mq_unlink(name);
	mq_close(q);
}

CASE(ipc, posix_shm_object_outlives_its_creator_and_unlink_removes_only_the_name,
     "ipc.shm.posix-object-outlives-its-creator")
{
	const char *name = own_name("shm");
	char dev[96], got[8] = "";
	snprintf(dev, sizeof dev, "/dev/shm%s", name);
	pid_t creator;
	IN_CHILD(creator) {
		int fd = shm_open(name, O_CREAT | O_EXCL | O_RDWR, 0600);
		CHILD_EXPECT(fd >= 0 && write(fd, "kept", 4) == 4, "shm_open: %s", hx_errno_name(errno));
	}
	EXPECT_EXITS(creator, 0);
	struct stat st;

	int fd = (int)EXPECT_OK(shm_open(name, O_RDWR, 0));

	int listed = stat(dev, &st) == 0;
	SAFE(pread(fd, got, 4, 0));
	hx_evidence("after_creator_exited", "%s,in_dev_shm=%d", got, listed);
	cr_assert_str_eq(got, "kept");
	cr_assert(listed, "%s does not exist", dev);
	SAFE(shm_unlink(name));
	EXPECT_FAILS_WITH(shm_open(name, O_RDWR, 0), ENOENT);
	memset(got, 0, sizeof got);
	SAFE(pread(fd, got, 4, 0));
	cr_assert_str_eq(got, "kept", "the kept descriptor reads '%s' after the unlink", got);
	EXPECT_FAILS_WITH(shm_open("/ipcproof/inner", O_CREAT | O_RDWR, 0600), EINVAL);
	close(fd);
}

static long msg_max(void)
{
	long v = -1;
	FILE *f = fopen("/proc/sys/fs/mqueue/msg_max", "r");
	if (!f || fscanf(f, "%ld", &v) != 1)
		hx_broken("cannot read /proc/sys/fs/mqueue/msg_max");
	fclose(f);
	return v;
}

/* mq_open of a queue one message longer than msg_max: 0, or the errno. */
static int open_above_msg_max(const char *name)
{
	struct mq_attr attr = { .mq_maxmsg = msg_max() + 1, .mq_msgsize = 16 };
	mqd_t q = mq_open(name, O_CREAT | O_EXCL | O_RDWR, 0600, &attr);
	if (q == (mqd_t)-1)
		return errno;
	mq_close(q);
	mq_unlink(name);
	return 0;
}

CASE(ipc, mq_open_above_msg_max_is_einval_without_cap_sys_resource_root_or_not, "ipc.mq.limits-need-cap-sys-resource",
     NEEDS("root /proc/sys/fs/mqueue/msg_max"))
{
	const char *name = own_name("big");
	hx_evidence("msg_max", "%ld", msg_max());
	pid_t root;

	IN_CHILD(root) {
		drop_effective_cap(CAP_SYS_RESOURCE);
		int e = open_above_msg_max(name);
		hx_evidence("root_without_cap", "%s", e ? hx_errno_name(e) : "opened");
		CHILD_EXPECT(e == EINVAL, "mq_maxmsg msg_max+1 without CAP_SYS_RESOURCE: %s", e ? hx_errno_name(e) : "opened");
	}

	EXPECT_EXITS(root, 0);
}

CASE(ipc, mq_open_above_msg_max_succeeds_with_cap_sys_resource, "ipc.mq.limits-need-cap-sys-resource",
     NEEDS("root /proc/sys/fs/mqueue/msg_max"))
{
	if (!has_effective_cap(CAP_SYS_RESOURCE))
		cr_skip_test("needs CAP_SYS_RESOURCE in the effective set: this root lacks it");

	int e = open_above_msg_max(own_name("big"));

	hx_evidence("with_cap", "%s", e ? hx_errno_name(e) : "opened");
	cr_assert_eq(e, 0, "mq_maxmsg msg_max+1 with CAP_SYS_RESOURCE: %s", hx_errno_name(e));
}
