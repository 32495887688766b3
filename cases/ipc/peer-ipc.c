/* A separate program, started with none of the case's descriptors but
 * those named: it reaches a FIFO or a mapped file only by its path, as an
 * unrelated process would.
 *   peer-ipc fifo-write PATH MESSAGE  open PATH for writing, write MESSAGE
 *   peer-ipc fifo-read PATH MESSAGE   open PATH for reading, read to end of
 *                                     file, succeed if that was MESSAGE
 *   peer-ipc mmap-write PATH MESSAGE READYFD GOFD
 *       map PATH MAP_SHARED, copy MESSAGE (with its NUL) to it, write a
 *       byte to READYFD, stay mapped until GOFD reaches end of file
 *   peer-ipc mmap-read PATH MESSAGE READYFD GOFD
 *       map PATH MAP_SHARED, write a byte to READYFD, wait for a byte on
 *       GOFD (another process has stored meanwhile), then succeed if the
 *       mapping it had all along holds MESSAGE
 * Exit codes: 0 done, 2 usage, 3 open or mmap failed, 4 wrong data,
 * 5 inherited a descriptor not named, 6 a handshake failed. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static int holds_only(int a, int b)
{
	for (int fd = 3; fd < 1024; fd++)
		if (fd != a && fd != b && fcntl(fd, F_GETFD) != -1)
			return 0;
	return 1;
}

static int fifo(int reading, const char *path, const char *message)
{
	int fd = open(path, reading ? O_RDONLY : O_WRONLY);
	if (fd < 0) {
		perror(path);
		return 3;
	}
	size_t n = strlen(message);
	char buf[4096];
	size_t got = 0;
	ssize_t r;
	if (reading)
		while (got < sizeof buf - 1 && (r = read(fd, buf + got, sizeof buf - 1 - got)) > 0)
			got += (size_t)r;
	buf[got] = '\0';
	int status = reading ? (strcmp(buf, message) == 0 ? 0 : 4)
		     : (write(fd, message, n) == (ssize_t)n ? 0 : 4);
	close(fd);
	return status;
}

static int shared(int writing, const char *path, const char *message, int ready, int go)
{
	int fd = open(path, O_RDWR);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) != 0 || (size_t)st.st_size <= strlen(message))
		return 3;
	char *mem = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (mem == MAP_FAILED)
		return 3;
	int status = 0;
	char sign = 'r';
	if (writing) {
		memcpy(mem, message, strlen(message) + 1);
		if (write(ready, &sign, 1) != 1)
			status = 6;
		while (read(go, &sign, 1) > 0)
			;
	} else {
		if (write(ready, &sign, 1) != 1 || read(go, &sign, 1) != 1)
			status = 6;
		else
			status = strcmp(mem, message) == 0 ? 0 : 4;
	}
	munmap(mem, (size_t)st.st_size);
	return status;
}

int main(int argc, char **argv)
{
	if (argc < 4)
		return 2;
	const char *mode = argv[1];
	int ready = argc == 6 ? atoi(argv[4]) : -1, go = argc == 6 ? atoi(argv[5]) : -1;
	if (!holds_only(ready, go))
		return 5;
	if (strcmp(mode, "fifo-write") == 0 || strcmp(mode, "fifo-read") == 0)
		return fifo(strcmp(mode, "fifo-read") == 0, argv[2], argv[3]);
	if (strcmp(mode, "mmap-write") == 0 && argc == 6)
		return shared(1, argv[2], argv[3], ready, go);
	if (strcmp(mode, "mmap-read") == 0 && argc == 6)
		return shared(0, argv[2], argv[3], ready, go);
	return 2;
}
