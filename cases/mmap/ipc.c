/* Talking through a mapping: parent and child share what fork copies
 * (MAP_SHARED pages are shared, MAP_PRIVATE pages become copies), and
 * unrelated programs share a file's pages by mapping the same file. */
#include "backing.h"

static const char message[] = "hello through memory";

static char *file_mapping(int *fd, int flags)
{
	long page = hx_page_size();
	*fd = backing_file("f", page);
	return (char *)SAFE(mmap(NULL, page, PROT_READ | PROT_WRITE, flags, *fd, 0));
}

static char *anonymous_shared_mapping(void)
{
	return (char *)SAFE(mmap(NULL, hx_page_size(), PROT_READ | PROT_WRITE,
				      MAP_SHARED | MAP_ANONYMOUS, -1, 0));
}

/* The child's exit is the handshake: the parent looks only after it. */
static void child_writes_parent_looks(char *mem)
{
	pid_t child;
	IN_CHILD(child) {
		memcpy(mem, message, sizeof message);
	}
	EXPECT_EXITS(child, 0);
}

/* What the child saw, as its exit status. */
enum { SAW_PARENT_WRITE = 0, SAW_ORIGINAL = 1 };

/* The child looks only after the parent's checkpoint says the parent has
 * written the mapping. */
static pid_t parent_writes_child_looks(char *mem)
{
	pid_t child;
	IN_CHILD(child) {
		hx_checkpoint_wait(0);
		hx_evidence("child_sees", "%.*s", (int)sizeof message - 1, mem);
		if (mem[0] == BACKING_FILL || mem[0] == '\0')
			_exit(SAW_ORIGINAL);
		CHILD_EXPECT(memcmp(mem, message, sizeof message) == 0, "child sees \"%.*s\"",
			     (int)sizeof message - 1, mem);
	}
	memcpy(mem, message, sizeof message);
	hx_checkpoint_wake(0);
	return child;
}

CASE(mmap, child_write_to_a_file_backed_shared_mapping_is_seen_by_the_parent, "mmap.ipc.related")
{
	int fd;
	char *mem = file_mapping(&fd, MAP_SHARED);

	child_writes_parent_looks(mem);

	hx_evidence("parent_sees", "%.*s", (int)sizeof message - 1, mem);
	cr_assert(memcmp(mem, message, sizeof message) == 0, "this process sees \"%.*s\"",
		  (int)sizeof message - 1, mem);
	munmap(mem, hx_page_size());
	close(fd);
}

CASE(mmap, parent_write_to_a_file_backed_shared_mapping_is_seen_by_the_child, "mmap.ipc.related")
{
	int fd;
	char *mem = file_mapping(&fd, MAP_SHARED);

	pid_t child = parent_writes_child_looks(mem);

	EXPECT_EXITS(child, SAW_PARENT_WRITE);
	munmap(mem, hx_page_size());
	close(fd);
}

CASE(mmap, child_write_to_an_anonymous_shared_mapping_is_seen_by_the_parent, "mmap.ipc.related")
{
	char *mem = anonymous_shared_mapping();

	child_writes_parent_looks(mem);

	hx_evidence("parent_sees", "%.*s", (int)sizeof message - 1, mem);
	cr_assert(memcmp(mem, message, sizeof message) == 0, "this process sees \"%.*s\"",
		  (int)sizeof message - 1, mem);
	munmap(mem, hx_page_size());
}

CASE(mmap, parent_write_to_an_anonymous_shared_mapping_is_seen_by_the_child, "mmap.ipc.related")
{
	char *mem = anonymous_shared_mapping();

	pid_t child = parent_writes_child_looks(mem);

	EXPECT_EXITS(child, SAW_PARENT_WRITE);
	munmap(mem, hx_page_size());
}

CASE(mmap, child_write_to_a_private_mapping_is_not_seen_by_the_parent, "mmap.ipc.related")
{
	int fd;
	char *mem = file_mapping(&fd, MAP_PRIVATE);

	child_writes_parent_looks(mem);

	hx_evidence("parent_sees", "%.*s", (int)sizeof message - 1, mem);
	cr_assert_eq(mem[0], BACKING_FILL, "the parent sees \"%.*s\"", (int)sizeof message - 1, mem);
	munmap(mem, hx_page_size());
	close(fd);
}

CASE(mmap, parent_write_to_a_private_mapping_after_fork_is_not_seen_by_the_child, "mmap.ipc.related")
{
	int fd;
	char *mem = file_mapping(&fd, MAP_PRIVATE);

	pid_t child = parent_writes_child_looks(mem);

	EXPECT_EXITS(child, SAW_ORIGINAL);
	cr_assert(memcmp(mem, message, sizeof message) == 0, "the parent lost its own write");
	munmap(mem, hx_page_size());
	close(fd);
}

/* ---- unrelated programs ------------------------------------------------- */

/* Starts peer-mmap MODE on the case's file, with a "ready" pipe it writes
 * once it has mapped (and, to write, written) the file and a "go" pipe it
 * waits on; ready[0] and go[1] are the case's. */
static pid_t start_peer(const char *mode, int ready[2], int go[2])
{
	char peer[4096], len[32], readyfd[16], gofd[16];
	snprintf(peer, sizeof peer, "%s/peer-mmap", hx_bindir());
	snprintf(len, sizeof len, "%ld", hx_page_size());
	hx_plumbing_pipe(ready);
	hx_plumbing_pipe(go);
	snprintf(readyfd, sizeof readyfd, "%d", ready[1]);
	snprintf(gofd, sizeof gofd, "%d", go[0]);
	char *argv[] = { peer, (char *)mode, (char *)hx_path("f"), len, (char *)message,
			 readyfd, gofd, NULL };
	int keep[] = { ready[1], go[0] };
	pid_t pid = hx_spawn(argv, keep, 2);
	close(ready[1]);
	close(go[0]);
	return pid;
}

CASE(mmap, unrelated_process_write_to_a_shared_file_mapping_is_seen_by_this_one, "mmap.ipc.unrelated")
{
	int fd, ready[2], go[2];
	char *mem = file_mapping(&fd, MAP_SHARED);
	pid_t peer = start_peer("write", ready, go);

	char sign = 0;
	ssize_t n = read(ready[0], &sign, 1);

	bool peer_alive = !hx_has_ended(peer);
	hx_evidence("seen_while_peer_mapped", "%.*s", (int)sizeof message - 1, mem);
	hx_evidence("peer_alive", "%s", peer_alive ? "yes" : "no");
	close(ready[0]);
	close(go[1]);
	EXPECT_EXITS(peer, 0);
	cr_assert_eq(n, 1, "the peer never said it had written");
	cr_assert(peer_alive);
	cr_assert(memcmp(mem, message, sizeof message) == 0, "this process sees \"%.*s\"",
		  (int)sizeof message - 1, mem);
	munmap(mem, hx_page_size());
	close(fd);
}

CASE(mmap, write_to_a_shared_file_mapping_is_seen_by_an_unrelated_process, "mmap.ipc.unrelated")
{
	int fd, ready[2], go[2];
	char *mem = file_mapping(&fd, MAP_SHARED);
	pid_t peer = start_peer("read", ready, go);
	char sign = 0;
	if (read(ready[0], &sign, 1) != 1)
		hx_evidence("peer_ready", "no");

	memcpy(mem, message, sizeof message);
	hx_write_all(go[1], "g", 1);

	hx_evidence("written_while_peer_mapped", "%s", mem);
	close(ready[0]);
	close(go[1]);
	EXPECT_EXITS(peer, 0);
	munmap(mem, hx_page_size());
	close(fd);
}
