/* pipe()'s own error paths and pipes with many readers: what LTP's pipe
 * tests check beyond the notes' sentences. */
#include "ipcproof.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/resource.h>

#define READERS 3

CASE(pipe, last_writers_close_wakes_every_blocked_reader_with_zero, "pipe.close.last-writer-wakes-every-blocked-reader")
{
	int p[2];
	pid_t reader[READERS];
	hx_pipe(p);
	for (int i = 0; i < READERS; i++) {
		IN_CHILD(reader[i]) {
			char b;
			close(p[1]);
			ssize_t n = read(p[0], &b, 1);
			CHILD_EXPECT(n == 0, "read returned %zd (%s)", n, n < 0 ? hx_errno_name(errno) : "data");
		}
	}
	for (int i = 0; i < READERS; i++)
		EXPECT_BLOCKED_IN(reader[i], "read");

	close(p[1]);

	for (int i = 0; i < READERS; i++)
		EXPECT_EXITS(reader[i], 0);
	hx_evidence("woken", "%d", READERS);
	close(p[0]);
}

/* 32-bit sequence numbers, written and read in multiples of 4 bytes, so
 * that no read splits one; each reader marks what it got in shared memory. */
#define WORDS 75000
CASE(pipe, many_readers_of_one_pipe_each_get_a_disjoint_part_of_the_stream,
     "pipe.readers.many-readers-share-one-stream")
{
	int p[2];
	pid_t reader[READERS];
	unsigned *seen = (unsigned *)SAFE(mmap(NULL, (WORDS + READERS) * sizeof *seen, PROT_READ | PROT_WRITE,
					       MAP_SHARED | MAP_ANONYMOUS, -1, 0));
	unsigned *share = seen + WORDS;
	hx_pipe(p);
	for (int i = 0; i < READERS; i++) {
		IN_CHILD(reader[i]) {
			uint32_t buf[25];
			ssize_t n;
			close(p[1]);
			while ((n = read(p[0], buf, sizeof buf)) > 0) {
				CHILD_EXPECT(n % 4 == 0, "a read of %zd bytes split a word", n);
				for (ssize_t k = 0; k < n / 4; k++)
					if (buf[k] < WORDS)
						__atomic_fetch_add(&seen[buf[k]], 1, __ATOMIC_RELAXED);
				__atomic_fetch_add(&share[i], (unsigned)n, __ATOMIC_RELAXED);
			}
			CHILD_EXPECT(n == 0, "read: %s", hx_errno_name(errno));
		}
	}
	close(p[0]);
	static uint32_t words[WORDS];
	for (uint32_t w = 0; w < WORDS; w++)
		words[w] = w;

	cr_assert_eq(hx_write_all(p[1], words, sizeof words), (ssize_t)sizeof words);
	close(p[1]);

	for (int i = 0; i < READERS; i++)
		EXPECT_EXITS(reader[i], 0);
	long total = 0, once = 0;
	for (int i = 0; i < READERS; i++)
		total += share[i];
	for (int w = 0; w < WORDS; w++)
		once += seen[w] == 1;
	/* The shares themselves are the scheduler's: not evidence of behaviour. */
	hx_evidence("bytes_read", "%ld", total);
	hx_evidence("words_read_once", "%ld", once);
	cr_assert_eq(total, (long)sizeof words, "the readers got %ld bytes of %zu", total, sizeof words);
	cr_assert_eq(once, WORDS, "%ld of %d words were read exactly once", once, WORDS);
	munmap(seen, (WORDS + READERS) * sizeof *seen);
}

CASE(pipe, pipe_with_one_free_descriptor_fails_with_emfile_and_takes_none, "pipe.create.emfile-with-one-free-slot")
{
	pid_t child;
	IN_CHILD(child) {
		struct rlimit lim = { 64, 64 };
		CHILD_EXPECT(setrlimit(RLIMIT_NOFILE, &lim) == 0, "setrlimit: %s", hx_errno_name(errno));
		int prev = -1, last = -1, fd;
		while ((fd = open("/dev/null", O_RDONLY)) >= 0) {
			prev = last;
			last = fd;
		}
		CHILD_EXPECT(errno == EMFILE && prev >= 0, "filling the table: %s", hx_errno_name(errno));
		close(last);	/* exactly one free number now */
		int p[2] = { -7, -7 };

		int r = pipe(p);

		int e = errno;
		hx_evidence("errno", "%s", r == 0 ? "none" : hx_errno_name(e));
		CHILD_EXPECT(r == -1 && e == EMFILE, "pipe with one free slot: %d (%s)", r, hx_errno_name(e));
		CHILD_EXPECT(p[0] == -7 && p[1] == -7, "the array was written: %d %d", p[0], p[1]);
		int again = open("/dev/null", O_RDONLY);
		CHILD_EXPECT(again == last, "the free number %d was consumed (open gave %d)", last, again);
		close(again);
		close(prev);	/* one of ours, not one the harness holds */
		CHILD_EXPECT(pipe(p) == 0, "pipe with two free slots: %s", hx_errno_name(errno));
		hx_evidence("two_free_gave_them", "%s", p[0] == prev && p[1] == last ? "yes" : "no");
		CHILD_EXPECT(p[0] == prev && p[1] == last, "got %d,%d, the free ones were %d,%d", p[0], p[1], prev, last);
	}
	EXPECT_EXITS(child, 0);
}

static int open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;
	if (!d)
		hx_broken("opendir /proc/self/fd: %s", hx_errno_name(errno));
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

CASE(pipe, pipe_into_a_bad_array_fails_with_efault_and_leaves_no_descriptor, "pipe.create.efault-leaks-no-descriptor")
{
	int *ro = (int *)SAFE(mmap(NULL, hx_page_size(), PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
	int before = open_fds();

	int *volatile wild = (int *)1;	/* not a constant the compiler can see through */

	EXPECT_FAILS_WITH(pipe(wild), EFAULT);
	EXPECT_FAILS_WITH(pipe(ro), EFAULT);

	int after = open_fds();
	hx_evidence("new_fds", "%d", after - before);
	cr_assert_eq(after, before, "%d descriptors open after the failed pipes, %d before", after, before);
	munmap(ro, hx_page_size());
}

CASE(pipe, zero_length_read_and_write_return_zero_without_blocking_or_sigpipe, "pipe.io.zero-length-transfers")
{
	int p[2];
	hx_pipe(p);
	pid_t child;
	IN_CHILD(child) {
		char b;
		ssize_t r = read(p[0], &b, 0);	/* empty, a writer open: no block */
		hx_evidence("read_0", "%zd", r);
		CHILD_EXPECT(r == 0, "read of 0 returned %zd", r);
		close(p[0]);
		hx_checkpoint_wait(0);	/* the parent's read end is closed too */
		signal(SIGPIPE, SIG_DFL);
		ssize_t w = write(p[1], &b, 0);	/* no reader: still no SIGPIPE */
		hx_evidence("write_0_no_reader", "%zd", w);
		CHILD_EXPECT(w == 0, "write of 0 with no reader returned %zd (%s)", w, hx_errno_name(errno));
	}
	close(p[0]);
	close(p[1]);
	hx_checkpoint_wake(0);
	EXPECT_EXITS(child, 0);
}
