/* A separate program that shares nothing with the case but a file's name:
 * it maps the file MAP_SHARED itself and talks through the mapping.
 *   peer-mmap write PATH LEN MESSAGE READYFD GOFD
 *       copy MESSAGE (with its NUL) to the mapping, write a byte to READYFD,
 *       stay mapped until GOFD reaches end of file
 *   peer-mmap read PATH LEN MESSAGE READYFD GOFD
 *       write a byte to READYFD once mapped, wait for a byte on GOFD, then
 *       expect MESSAGE in the mapping
 * Exit: 0 done, 2 usage, 3 open or mmap failed, 4 the mapping did not hold
 * MESSAGE, 5 a handshake failed. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc != 7)
		return 2;
	const char *mode = argv[1], *message = argv[4];
	size_t len = strtoul(argv[3], NULL, 10), n = strlen(message) + 1;
	int ready = atoi(argv[5]), go = atoi(argv[6]);
	char sign = 'r';
	if (n > len)
		return 2;

	int fd = open(argv[2], O_RDWR);
	if (fd < 0)
		return 3;
	char *mem = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (mem == MAP_FAILED)
		return 3;

	int status = 0;
	if (strcmp(mode, "write") == 0) {
		memcpy(mem, message, n);
		if (write(ready, &sign, 1) != 1)
			return 5;
		while (read(go, &sign, 1) > 0)
			;
	} else if (strcmp(mode, "read") == 0) {
		if (write(ready, &sign, 1) != 1 || read(go, &sign, 1) != 1)
			return 5;
		status = memcmp(mem, message, n) == 0 ? 0 : 4;
	} else {
		status = 2;
	}
	munmap(mem, len);
	return status;
}
