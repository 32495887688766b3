/* A separate program, started with none of the case's descriptors: it
 * reaches a FIFO only by its path, as an unrelated process would.
 *   peer-fifo read PATH MESSAGE   open PATH for reading, read to end of
 *                                 file, succeed if that was MESSAGE
 *   peer-fifo write PATH MESSAGE  open PATH for writing, write MESSAGE
 * Exit codes: 2 usage, 3 open failed, 4 wrong data, 5 inherited a
 * descriptor beyond 0-2. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int holds_only_std_fds(void)
{
	for (int fd = 3; fd < 1024; fd++)
		if (fcntl(fd, F_GETFD) != -1)
			return 0;
	return 1;
}

static int read_message(int fd, const char *expected)
{
	char buf[4096];
	size_t got = 0;
	ssize_t n;
	while (got < sizeof buf - 1 && (n = read(fd, buf + got, sizeof buf - 1 - got)) > 0)
		got += (size_t)n;
	buf[got] = '\0';
	return strcmp(buf, expected) == 0 ? 0 : 4;
}

int main(int argc, char **argv)
{
	if (argc != 4 || (strcmp(argv[1], "read") != 0 && strcmp(argv[1], "write") != 0))
		return 2;
	if (!holds_only_std_fds())
		return 5;
	int reading = strcmp(argv[1], "read") == 0;
	int fd = open(argv[2], reading ? O_RDONLY : O_WRONLY);
	if (fd < 0) {
		perror(argv[2]);
		return 3;
	}
	size_t n = strlen(argv[3]);
	int status = reading ? read_message(fd, argv[3])
		     : write(fd, argv[3], n) == (ssize_t)n ? 0 : 4;
	close(fd);
	return status;
}
