/* What mkfifo makes, and what the file says about the data behind it. */
#include "fifo.h"

static mode_t current_umask(void)
{
	mode_t mask = umask(0);
	umask(mask);
	return mask;
}

CASE(fifo, mkfifo_command_creates_a_fifo_type_file, "fifo.create.mkfifo", NEEDS("cmd:mkfifo cmd:ls"))
{
	const char *path = hx_path("myfifo");
	char *argv[] = { "mkfifo", (char *)path, NULL };
	char out[64];
	struct stat st;

	int status = hx_capture(argv, out, sizeof out);

	cr_assert(status == 0, "mkfifo %s ended with status %#x", path, status);
	EXPECT_OK(lstat(path, &st));
	char *ls[] = { "ls", "-ld", (char *)path, NULL };
	char listing[512] = "";
	int ls_status = hx_capture(ls, listing, sizeof listing);
	hx_evidence("ls_type", "%c", listing[0]);
	hx_evidence("st_mode", "%#o", (unsigned)st.st_mode);
	hx_evidence("st_size", "%lld", (long long)st.st_size);
	cr_assert(S_ISFIFO(st.st_mode), "st_mode %#o is not S_IFIFO", (unsigned)st.st_mode);
	cr_assert_eq(st.st_mode & 0777, 0666 & ~current_umask());
	cr_assert_eq(st.st_size, 0);
	/* What the notes show: `ls -l` marks the type with a 'p'. */
	cr_assert(ls_status == 0 && listing[0] == 'p', "ls -ld (status %#x) shows \"%.20s\"", ls_status,
		  listing);
}

CASE(fifo, mkfifo_function_creates_a_fifo_type_file_with_mode_less_umask, "fifo.create.mkfifo")
{
	const char *path = hx_path("myfifo");
	struct stat st;

	EXPECT_OK(mkfifo(path, 0666));

	EXPECT_OK(lstat(path, &st));
	hx_evidence("st_mode", "%#o", (unsigned)st.st_mode);
	hx_evidence("umask", "%#o", (unsigned)current_umask());
	hx_evidence("st_size", "%lld", (long long)st.st_size);
	cr_assert(S_ISFIFO(st.st_mode), "st_mode %#o is not S_IFIFO", (unsigned)st.st_mode);
	cr_assert_eq(st.st_mode & 0777, 0666 & ~current_umask());
	cr_assert_eq(st.st_size, 0);
}

CASE(fifo, mkfifo_on_an_existing_path_fails_with_eexist, "fifo.create.mkfifo")
{
	const char *path = fifo_make("myfifo");
	EXPECT_FAILS_WITH(mkfifo(path, 0600), EEXIST);
}

/* The file is only a name: the bytes sit in the kernel buffer. */
CASE(fifo, file_size_stays_zero_while_bytes_are_queued, "fifo.mechanism.file-names-a-kernel-buffer")
{
	const char *path = fifo_make("myfifo");
	char data[1000] = { 0 };
	struct stat st;
	int r, w;
	fifo_open_both(path, &r, &w);

	cr_assert_eq(hx_write_all(w, data, sizeof data), (ssize_t)sizeof data);

	EXPECT_OK(stat(path, &st));
	int queued = fifo_queued(r);
	hx_evidence("queued", "%d", queued);
	hx_evidence("st_size", "%lld", (long long)st.st_size);
	hx_evidence("st_blocks", "%lld", (long long)st.st_blocks);
	cr_assert_eq(queued, (int)sizeof data);
	cr_assert_eq(st.st_size, 0);
	cr_assert_eq(st.st_blocks, 0);
	close(r);
	close(w);
}
