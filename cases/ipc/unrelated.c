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
	EXPECT_UNRELATED(reader);
	EXPECT_UNRELATED(writer);

	EXPECT_EXITS(writer, 0);
	EXPECT_EXITS(reader, 0);
	hx_evidence("message_bytes", "%zu", sizeof message - 1);
}

/* The reader has the file mapped before the writer stores, and looks
 * while the writer still has it mapped: a store seen by a mapping that
 * already existed, not file content read by a mapping made later. */
struct handshake {
	int ready, go;	/* this process's ends */
	char ready_arg[16], go_arg[16];
	int keep[2];	/* the program's ends */
};

static void handshake(struct handshake *h)
{
	int ready[2], go[2];
	hx_plumbing_pipe(ready);
	hx_plumbing_pipe(go);
	h->ready = ready[0];
	h->go = go[1];
	h->keep[0] = ready[1];
	h->keep[1] = go[0];
	snprintf(h->ready_arg, sizeof h->ready_arg, "%d", ready[1]);
	snprintf(h->go_arg, sizeof h->go_arg, "%d", go[0]);
}

/* Once the program has its ends: ours only. */
static void handshake_started(struct handshake *h)
{
	close(h->keep[0]);
	close(h->keep[1]);
}

CASE(ipc, two_unrelated_programs_share_data_through_a_shared_file_mapping, "ipc.overview.mmap-unrelated")
{
	const char *path = hx_path("shared");
	int fd = SAFE(open(path, O_RDWR | O_CREAT | O_EXCL, 0600));
	SAFE(ftruncate(fd, hx_page_size()));
	close(fd);
	struct handshake r, w;
	handshake(&r);
	handshake(&w);
	char *reader_argv[] = { peer(), "mmap-read", (char *)path, (char *)message, r.ready_arg, r.go_arg, NULL };
	char *writer_argv[] = { peer(), "mmap-write", (char *)path, (char *)message, w.ready_arg, w.go_arg, NULL };
	char sign = 'g';

	pid_t reader = hx_spawn(reader_argv, r.keep, 2);
	handshake_started(&r);
	ssize_t reader_mapped = read(r.ready, &sign, 1);
	pid_t writer = hx_spawn(writer_argv, w.keep, 2);
	handshake_started(&w);
	ssize_t writer_stored = read(w.ready, &sign, 1);
	cr_assert(reader_mapped == 1 && writer_stored == 1, "a program never said it was mapped");

	/* The reader looks now, with both mappings in place. */
	SAFE(write(r.go, &sign, 1));
	struct hx_outcome looked = hx_wait(reader);
	bool writer_mapped = !hx_has_ended(writer);
	close(r.ready);
	close(r.go);
	close(w.ready);
	close(w.go);
	hx_evidence("reader", "%s", looked.text);
	hx_evidence("writer_still_mapped", "%s", writer_mapped ? "yes" : "no");
	EXPECT_UNRELATED(reader);
	EXPECT_UNRELATED(writer);
	cr_assert(looked.how == HX_EXITED && looked.code == 0, "reader %s", looked.text);
	cr_assert(writer_mapped, "the writer had ended before the reader looked");
	EXPECT_EXITS(writer, 0);
}
