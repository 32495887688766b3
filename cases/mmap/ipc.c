/* Talking through a mapping: parent and child share what fork copies
 * (MAP_SHARED pages are shared, MAP_PRIVATE pages become copies), and
 * unrelated programs share a file's pages by mapping the same file. */
#include "backing.h"

static const char message[] = "hello through memory";

/* One page of the backing, mapped read-write with flags. */
static char *page_mapping(struct hx_fx_backing *self, const struct hx_fv_backing *variant,
			  int flags)
{
	backing_fill(self, variant, (size_t)hx_page_size());
	return backing_map(self, variant, (size_t)hx_page_size(), PROT_READ | PROT_WRITE, flags);
}

/* The child stores, says so and stays alive, mapped, until the parent has
 * looked: what the parent sees is seen while both have the page mapped,
 * not after the child's exit tore its mapping down. */
static pid_t child_writes_parent_looks(char *mem)
{
	pid_t child;
	IN_CHILD(child) {
		memcpy(mem, message, sizeof message);
		hx_checkpoint_wake(0);
		hx_checkpoint_wait(1);
	}
	hx_checkpoint_wait(0);
	return child;
}

/* After the parent's look: the child was still there, then let it go. */
static void child_may_go(pid_t child)
{
	bool alive = !hx_has_ended(child);
	hx_evidence("child_alive_at_the_look", "%s", alive ? "yes" : "no");
	hx_checkpoint_wake(1);
	EXPECT_EXITS(child, 0);
	cr_assert(alive, "the child had ended before the parent looked");
}

/* What the child saw, as its exit status. */
enum { SAW_PARENT_WRITE = 0, SAW_ORIGINAL = 1 };

/* The child looks only after the parent's checkpoint says the parent has
 * written the mapping; it still seeing the original byte is SAW_ORIGINAL. */
static pid_t parent_writes_child_looks(char *mem, char original)
{
	pid_t child;
	IN_CHILD(child) {
		hx_checkpoint_wait(0);
		hx_evidence("child_sees", "%.*s", (int)sizeof message - 1, mem);
		if (mem[0] == original)
			_exit(SAW_ORIGINAL);
		CHILD_EXPECT(memcmp(mem, message, sizeof message) == 0, "child sees \"%.*s\"",
			     (int)sizeof message - 1, mem);
	}
	memcpy(mem, message, sizeof message);
	hx_checkpoint_wake(0);
	return child;
}

CASE_F(mmap, child_write_to_a_shared_mapping_is_seen_by_the_parent, "mmap.ipc.related",
       backing, tmpfs, disk, memfd, anon, zero)
{
	char *mem = page_mapping(self, variant, MAP_SHARED);

	pid_t child = child_writes_parent_looks(mem);

	bool seen = memcmp(mem, message, sizeof message) == 0;
	hx_evidence("parent_sees", "%.*s", (int)sizeof message - 1, mem);
	child_may_go(child);
	cr_assert(seen, "this process sees \"%.*s\"", (int)sizeof message - 1, mem);
	munmap(mem, hx_page_size());
}

CASE_F(mmap, parent_write_to_a_shared_mapping_is_seen_by_the_child, "mmap.ipc.related",
       backing, tmpfs, disk, memfd, anon, zero)
{
	char *mem = page_mapping(self, variant, MAP_SHARED);

	pid_t child = parent_writes_child_looks(mem, backing_original(variant));

	EXPECT_EXITS(child, SAW_PARENT_WRITE);
	munmap(mem, hx_page_size());
}

CASE_F(mmap, child_write_to_a_private_mapping_is_not_seen_by_the_parent, "mmap.ipc.related",
       backing, tmpfs, disk, memfd, anon, zero)
{
	char *mem = page_mapping(self, variant, MAP_PRIVATE);

	pid_t child = child_writes_parent_looks(mem);

	char first = mem[0];
	hx_evidence("parent_sees", "%.*s", (int)sizeof message - 1, mem);
	child_may_go(child);
	cr_assert_eq(first, backing_original(variant), "the parent sees \"%.*s\"",
		     (int)sizeof message - 1, mem);
	munmap(mem, hx_page_size());
}

CASE_F(mmap, parent_write_to_a_private_mapping_after_fork_is_not_seen_by_the_child, "mmap.ipc.related",
       backing, tmpfs, disk, memfd, anon, zero)
{
	char *mem = page_mapping(self, variant, MAP_PRIVATE);

	pid_t child = parent_writes_child_looks(mem, backing_original(variant));

	EXPECT_EXITS(child, SAW_ORIGINAL);
	cr_assert(memcmp(mem, message, sizeof message) == 0, "the parent lost its own write");
	munmap(mem, hx_page_size());
}

/* ---- unrelated programs ------------------------------------------------- */

/* Starts peer-mmap MODE on the file at path, with a "ready" pipe it writes
 * once it has mapped (and, to write, written) the file and a "go" pipe it
 * waits on; ready[0] and go[1] are the case's. */
static pid_t start_peer(const char *mode, const char *path, int ready[2], int go[2])
{
	char peer[4096], len[32], readyfd[16], gofd[16];
	snprintf(peer, sizeof peer, "%s/peer-mmap", hx_bindir());
	snprintf(len, sizeof len, "%ld", hx_page_size());
	hx_plumbing_pipe(ready);
	hx_plumbing_pipe(go);
	snprintf(readyfd, sizeof readyfd, "%d", ready[1]);
	snprintf(gofd, sizeof gofd, "%d", go[0]);
	char *argv[] = { peer, (char *)mode, (char *)path, len, (char *)message,
			 readyfd, gofd, NULL };
	int keep[] = { ready[1], go[0] };
	pid_t pid = hx_spawn(argv, keep, 2);
	close(ready[1]);
	close(go[0]);
	return pid;
}

CASE_F(mmap, unrelated_process_write_to_a_shared_file_mapping_is_seen_by_this_one, "mmap.ipc.unrelated",
       backing, tmpfs, disk)
{
	int ready[2], go[2];
	char *mem = page_mapping(self, variant, MAP_SHARED);
	pid_t peer = start_peer("write", self->path, ready, go);
	EXPECT_UNRELATED(peer);

	char sign = 0;
	ssize_t n = read(ready[0], &sign, 1);

	/* The look, at once, while the peer is held mapped on go. */
	char seen[sizeof message];
	memcpy(seen, mem, sizeof message);
	bool peer_alive = !hx_has_ended(peer);
	hx_evidence("seen_while_peer_mapped", "%.*s", (int)sizeof message - 1, seen);
	hx_evidence("peer_alive", "%s", peer_alive ? "yes" : "no");
	cr_assert_eq(n, 1, "the peer never said it had written");
	cr_assert(peer_alive, "the peer had ended before this process looked");
	cr_assert(memcmp(seen, message, sizeof message) == 0, "this process sees \"%.*s\"",
		  (int)sizeof message - 1, seen);
	close(ready[0]);
	close(go[1]);
	EXPECT_EXITS(peer, 0);
	munmap(mem, hx_page_size());
}

CASE_F(mmap, write_to_a_shared_file_mapping_is_seen_by_an_unrelated_process, "mmap.ipc.unrelated",
       backing, tmpfs, disk)
{
	int ready[2], go[2];
	char *mem = page_mapping(self, variant, MAP_SHARED);
	pid_t peer = start_peer("read", self->path, ready, go);
	EXPECT_UNRELATED(peer);
	char sign = 0;
	cr_assert_eq(read(ready[0], &sign, 1), 1, "the peer never said it had mapped the file");

	memcpy(mem, message, sizeof message);
	hx_write_all(go[1], "g", 1);

	hx_evidence("written_while_peer_mapped", "%s", mem);
	close(ready[0]);
	close(go[1]);
	EXPECT_EXITS(peer, 0);
	munmap(mem, hx_page_size());
}
