/* Two independently started programs meet through the FIFO's path. */
#include "fifo.h"

static const char message[] = "through the named pipe";

static pid_t start_peer(const char *mode, const char *path)
{
	static char peer[4096];
	snprintf(peer, sizeof peer, "%s/peer-fifo", hx_bindir());
	char *argv[] = { peer, (char *)mode, (char *)path, (char *)message, NULL };
	return hx_spawn(argv, NULL, 0);
}

CASE(fifo, unrelated_program_reads_what_this_process_writes_through_the_path, "fifo.users.unrelated-through-path")
{
	const char *path = fifo_make("myfifo");
	pid_t peer = start_peer("read", path);
	EXPECT_UNRELATED(peer);
	/* The peer waiting in open is a reader already: this open returns. */
	EXPECT_BLOCKED_IN(peer, "open");

	int w = EXPECT_OK(open(path, O_WRONLY));
	cr_assert_eq(hx_write_all(w, message, sizeof message - 1), (ssize_t)sizeof message - 1);
	close(w);

	EXPECT_EXITS(peer, 0);
	hx_evidence("message_bytes", "%zu", sizeof message - 1);
}

CASE(fifo, unrelated_program_writes_what_this_process_reads_through_the_path, "fifo.users.unrelated-through-path")
{
	const char *path = fifo_make("myfifo");
	char buf[64] = "";
	pid_t peer = start_peer("write", path);
	EXPECT_UNRELATED(peer);
	EXPECT_BLOCKED_IN(peer, "open");

	int r = EXPECT_OK(open(path, O_RDONLY));
	ssize_t n = hx_read_all(r, buf, sizeof buf - 1);
	close(r);

	EXPECT_EXITS(peer, 0);
	hx_evidence("message_bytes", "%zd", n);
	cr_assert_str_eq(buf, message);
}
