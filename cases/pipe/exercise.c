/* The notes' exercise: `ps aux | grep bash` built from pipe, fork, dup2
 * and exec.  `ps aux` lists itself, its CPU times and the moment's
 * processes, so two runs never print the same; a fixed ps-like listing fed
 * by `cat` keeps the mechanism (a program writing its stdout into the pipe,
 * grep reading its stdin) and makes the output comparable.  The listing is
 * larger than the pipe, so the producer must block while grep catches up. */
#include "ipcproof.h"

#include <fcntl.h>
#include <sys/stat.h>

static void write_listing(const char *path)
{
	static const char *const commands[] = {
		"/bin/bash", "/usr/sbin/sshd -D", "-bash", "/usr/bin/python3 app.py",
		"bash -c make", "[kworker/0:1]", "/lib/systemd/systemd-journald",
	};
	FILE *f = fopen(path, "we");
	if (!f)
		hx_broken("fopen %s: %s", path, strerror(errno));
	fprintf(f, "USER         PID %%CPU %%MEM    VSZ   RSS TTY      STAT START   TIME COMMAND\n");
	for (int i = 0; i < 2000; i++)
		fprintf(f, "user%-6d %6d  0.%d  0.1  %5d  %4d pts/%d    S    10:%02d   0:00 %s\n",
			i % 7, 1000 + i, i % 10, 8000 + i, 3000 + i % 500, i % 4, i % 60,
			commands[i % 7]);
	fclose(f);
}

/* cmd1 | cmd2 > out, by hand. */
static void run_pipeline(char *const cmd1[], char *const cmd2[], const char *out,
			 pid_t *left, pid_t *right)
{
	int p[2];
	hx_pipe(p);
	IN_CHILD(*left) {
		dup2(p[1], STDOUT_FILENO);
		close(p[0]);
		close(p[1]);
		execvp(cmd1[0], cmd1);
		CHILD_EXPECT(0, "exec %s: %s", cmd1[0], hx_errno_name(errno));
	}
	IN_CHILD(*right) {
		int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		dup2(p[0], STDIN_FILENO);
		dup2(fd, STDOUT_FILENO);
		close(fd);
		close(p[0]);
		close(p[1]);
		execvp(cmd2[0], cmd2);
		CHILD_EXPECT(0, "exec %s: %s", cmd2[0], hx_errno_name(errno));
	}
	/* Unless the parent lets go of the write end, grep never sees EOF. */
	close(p[0]);
	close(p[1]);
}

static char *slurp(const char *path, size_t *size)
{
	FILE *f = fopen(path, "re");
	static char empty[1];
	if (!f)
		return empty;
	struct stat st;
	fstat(fileno(f), &st);
	char *buf = calloc(1, (size_t)st.st_size + 1);
	*size = fread(buf, 1, (size_t)st.st_size, f);
	fclose(f);
	return buf;
}

CASE(pipe, ps_aux_pipe_grep_bash_rebuilt_by_hand_matches_the_shell, "pipe.exercise.ps-aux-grep-bash",
     NEEDS("cmd:cat cmd:grep cmd:sh"))
{
	const char *listing = hx_path("ps-aux.txt"), *mine = hx_path("mine.txt"),
		   *shells = hx_path("shell.txt");
	write_listing(listing);
	char *cat[] = { "cat", (char *)listing, NULL }, *grep[] = { "grep", "bash", NULL };
	char script[4200];
	snprintf(script, sizeof script, "cat '%s' | grep bash > '%s'", listing, shells);
	char *sh[] = { "sh", "-c", script, NULL };
	char ignored[8];

	pid_t left, right;
	run_pipeline(cat, grep, mine, &left, &right);
	EXPECT_EXITS(left, 0);
	EXPECT_EXITS(right, 0);
	cr_assert_eq(hx_capture(sh, ignored, sizeof ignored), 0, "the shell's own pipeline failed");

	size_t n_mine = 0, n_shell = 0, n_listing = 0;
	char *a = slurp(mine, &n_mine), *b = slurp(shells, &n_shell);
	free(slurp(listing, &n_listing));
	size_t lines = 0;
	for (size_t i = 0; i < n_mine; i++)
		lines += a[i] == '\n';
	hx_evidence("listing_bytes", "%zu", n_listing);
	hx_evidence("matched_lines", "%zu", lines);
	cr_assert(n_mine > 0, "the hand-built pipeline printed nothing");
	cr_assert(n_mine == n_shell && memcmp(a, b, n_mine) == 0,
		  "outputs differ: %zu bytes by hand, %zu by the shell", n_mine, n_shell);
	free(a);
	free(b);
}
