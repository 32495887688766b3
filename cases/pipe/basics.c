/* What a pipe is: its descriptors, its inode, its direction. */
#include "ipcproof.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/vfs.h>

CASE(pipe, fd_is_a_fifo_inode_on_pipefs_with_no_path, "pipe.nature.pseudo-file")
{
	int p[2];
	struct stat st;
	struct statfs fs;
	char link[64], target[128] = "", expected[128];
	hx_pipe(p);

	EXPECT_OK(fstat(p[0], &st));
	EXPECT_OK(fstatfs(p[0], &fs));
	snprintf(link, sizeof link, "/proc/self/fd/%d", p[0]);
	ssize_t n = readlink(link, target, sizeof target - 1);
	target[n > 0 ? n : 0] = '\0';

	snprintf(expected, sizeof expected, "pipe:[%lu]", (unsigned long)st.st_ino);
	hx_evidence("st_mode", "%#o", (unsigned)st.st_mode);
	hx_evidence("fs_magic", "%#lx", (unsigned long)fs.f_type);
	hx_evidence("proc_fd_link", "%s", target);
	cr_assert(S_ISFIFO(st.st_mode), "st_mode %#o is not S_IFIFO", (unsigned)st.st_mode);
	cr_assert_eq(fs.f_type, PIPEFS_MAGIC, "filesystem %#lx is not pipefs", (unsigned long)fs.f_type);
	cr_assert_str_eq(target, expected, "the fd's link names %s, not a path", target);
	close(p[0]);
	close(p[1]);
}

CASE(pipe, first_fd_is_the_read_end_and_second_the_write_end, "pipe.create.two-descriptors")
{
	int p[2];
	char buf[8] = "";
	hx_pipe(p);

	int mode0 = fcntl(p[0], F_GETFL) & O_ACCMODE, mode1 = fcntl(p[1], F_GETFL) & O_ACCMODE;
	hx_write_all(p[1], "abc", 3);

	hx_evidence("fd0_mode", "%s", mode0 == O_RDONLY ? "O_RDONLY" : "other");
	hx_evidence("fd1_mode", "%s", mode1 == O_WRONLY ? "O_WRONLY" : "other");
	cr_assert_eq(mode0, O_RDONLY);
	cr_assert_eq(mode1, O_WRONLY);
	cr_assert_eq(read(p[0], buf, 3), 3);
	cr_assert_str_eq(buf, "abc");
	close(p[0]);
	close(p[1]);
}

/* The notes' 3 and 4 hold only because 0-2 are taken; whether 0-2 are a
 * terminal does not matter (here they are /dev/null). */
CASE(pipe, fds_are_3_and_4_when_only_0_to_2_are_open, "pipe.create.fds-3-and-4")
{
	pid_t child;
	IN_CHILD(child) {
		int null = open("/dev/null", O_RDWR);
		for (int fd = 0; fd < 3; fd++)
			dup2(null, fd);
		hx_close_nonstd_fds();
		int p[2];
		CHILD_EXPECT(pipe(p) == 0, "pipe: %s", hx_errno_name(errno));
		hx_evidence("fds", "%d,%d", p[0], p[1]);
		hx_evidence("stdin_is_tty", "%s", isatty(0) ? "yes" : "no");
		CHILD_EXPECT(p[0] == 3 && p[1] == 4, "pipe gave %d and %d", p[0], p[1]);
	}
	EXPECT_EXITS(child, 0);
}

CASE(pipe, fds_are_the_lowest_free_numbers, "pipe.create.fds-3-and-4")
{
	pid_t child;
	IN_CHILD(child) {
		hx_close_nonstd_fds();
		close(0);
		int p[2];
		CHILD_EXPECT(pipe(p) == 0, "pipe: %s", hx_errno_name(errno));
		hx_evidence("fds_with_0_closed", "%d,%d", p[0], p[1]);
		CHILD_EXPECT(p[0] == 0 && p[1] == 3, "pipe gave %d and %d", p[0], p[1]);
	}
	EXPECT_EXITS(child, 0);
}

/* One direction only: neither end can be used the other way. */
CASE(pipe, writing_the_read_end_fails_with_ebadf, "pipe.direction.half-duplex")
{
	int p[2];
	hx_pipe(p);
	EXPECT_FAILS_WITH(write(p[0], "x", 1), EBADF);
	close(p[0]);
	close(p[1]);
}

CASE(pipe, reading_the_write_end_fails_with_ebadf, "pipe.direction.half-duplex")
{
	int p[2];
	char c;
	hx_pipe(p);
	EXPECT_FAILS_WITH(read(p[1], &c, 1), EBADF);
	close(p[0]);
	close(p[1]);
}
