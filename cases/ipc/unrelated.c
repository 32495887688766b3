/* The overview's "无血缘关系" lines: two programs started separately, with
 * no descriptor in common, meet through a FIFO's path or by mapping the
 * same file.  Neither of them is the case process. */
#include "ipcproof.h"

#include <fcntl.h>
#include <sys/stat.h>

static const char message[] = "between strangers";

static char *peer(void)
{
	static char path[4096];
	snprintf(path, sizeof path, "%s/peer-ipc", hx_bindir());
	return path;
}

CASE(ipc, two_unrelated_programs_talk_through_a_fifo_path, "ipc.overview.fifo-unrelated")
{
	const char *path = hx_path("fifo");
	SAFE(mkfifo(path, 0600));
	char *reader_argv[] = { peer(), "fifo-read", (char *)path, (char *)message, NULL };
	char *writer_argv[] = { peer(), "fifo-write", (char *)path, (char *)message, NULL };

	/* Each open waits for the other: the order of starting does not matter. */
	pid_t reader = hx_spawn(reader_argv, NULL, 0);
	pid_t writer = hx_spawn(writer_argv, NULL, 0);

	EXPECT_EXITS(writer, 0);
	EXPECT_EXITS(reader, 0);
	hx_evidence("message_bytes", "%zu", sizeof message - 1);
}

/* The reader maps the file while the writer still has it mapped. */
CASE(ipc, two_unrelated_programs_share_data_through_a_shared_file_mapping, "ipc.overview.mmap-unrelated")
{
	const char *path = hx_path("shared");
	int fd = SAFE(open(path, O_RDWR | O_CREAT | O_EXCL, 0600));
	SAFE(ftruncate(fd, hx_page_size()));
	close(fd);
	int ready[2], go[2];
	hx_plumbing_pipe(ready);
	hx_plumbing_pipe(go);
	char readyfd[16], gofd[16];
	snprintf(readyfd, sizeof readyfd, "%d", ready[1]);
	snprintf(gofd, sizeof gofd, "%d", go[0]);
	char *writer_argv[] = { peer(), "mmap-write", (char *)path, (char *)message,
				readyfd, gofd, NULL };
	char *reader_argv[] = { peer(), "mmap-read", (char *)path, (char *)message, NULL };
	int keep[] = { ready[1], go[0] };
	pid_t writer = hx_spawn(writer_argv, keep, 2);
	close(ready[1]);
	close(go[0]);
	char sign = 0;
	ssize_t said = read(ready[0], &sign, 1);

	pid_t reader = hx_spawn(reader_argv, NULL, 0);

	struct hx_outcome r = hx_wait(reader);
	bool writer_mapped = !hx_has_ended(writer);
	close(ready[0]);
	close(go[1]);
	hx_evidence("reader", "%s", r.text);
	hx_evidence("writer_still_mapped", "%s", writer_mapped ? "yes" : "no");
	cr_assert_eq(said, 1, "the writer never said it had written");
	cr_assert(r.how == HX_EXITED && r.code == 0, "reader %s", r.text);
	cr_assert(writer_mapped);
	EXPECT_EXITS(writer, 0);
}
