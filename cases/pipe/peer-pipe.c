/* A separate program, started with none of the case's descriptors: it
 * reaches a pipe the way an unrelated process would.
 *   peer-pipe proc PATH MESSAGE  open PATH (a /proc/PID/fd/N link), write
 *   peer-pipe scm SOCKFD MESSAGE receive a descriptor over a UNIX socket,
 *                                write to it */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int received_fd(int sock)
{
	char byte, control[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { &byte, 1 };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
			      .msg_control = control, .msg_controllen = sizeof control };
	if (recvmsg(sock, &msg, 0) != 1)
		return -1;
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
	if (!c || c->cmsg_type != SCM_RIGHTS)
		return -1;
	int fd;
	memcpy(&fd, CMSG_DATA(c), sizeof fd);
	return fd;
}

/* Nothing inherited but fds 0-2 and the one named: this program has no
 * descriptor of the pipe until it makes one itself. */
static int holds_only(int allowed)
{
	for (int fd = 3; fd < 1024; fd++)
		if (fd != allowed && fcntl(fd, F_GETFD) != -1)
			return 0;
	return 1;
}

int main(int argc, char **argv)
{
	if (argc != 4)
		return 2;
	if (!holds_only(strcmp(argv[1], "scm") == 0 ? atoi(argv[2]) : -1))
		return 5;
	int fd = strcmp(argv[1], "proc") == 0 ? open(argv[2], O_WRONLY)
		 : received_fd(atoi(argv[2]));
	if (fd < 0) {
		perror(argv[1]);
		return 3;
	}
	size_t n = strlen(argv[3]);
	return write(fd, argv[3], n) == (ssize_t)n ? 0 : 4;
}
