/* Names for numbers: errno, signals, system calls. */
#include "internal.h"

#include <stdio.h>
#include <sys/syscall.h>

const char *hx_errno_name(int err)
{
	const char *name = strerrorname_np(err);
	static char unknown[32];
	if (name)
		return name;
	snprintf(unknown, sizeof unknown, "errno %d", err);
	return unknown;
}

const char *hx_signal_name(int sig)
{
	static char name[32];
	const char *abbrev = sigabbrev_np(sig);
	if (abbrev)
		snprintf(name, sizeof name, "SIG%s", abbrev);
	else
		snprintf(name, sizeof name, "signal %d", sig);
	return name;
}

#define NR(name) { __NR_##name, #name }
static const struct { long nr; const char *name; } syscalls[] = {
	NR(read), NR(write), NR(readv), NR(writev), NR(pread64), NR(pwrite64),
	NR(openat), NR(close), NR(wait4), NR(waitid), NR(ppoll), NR(pselect6),
	NR(epoll_pwait), NR(futex), NR(nanosleep), NR(clock_nanosleep),
	NR(rt_sigsuspend), NR(rt_sigtimedwait), NR(accept4), NR(recvfrom),
	NR(sendto), NR(recvmsg), NR(sendmsg), NR(msgrcv), NR(msgsnd),
	NR(mq_timedreceive), NR(mq_timedsend), NR(flock),
	NR(fcntl), NR(splice), NR(tee), NR(execve), NR(exit_group), NR(connect),
#ifdef __NR_open
	NR(open),
#endif
#ifdef __NR_openat2
	NR(openat2),
#endif
#ifdef __NR_pause
	NR(pause),
#endif
#ifdef __NR_poll
	NR(poll),
#endif
#ifdef __NR_select
	NR(select),
#endif
#ifdef __NR_accept
	NR(accept),
#endif
#ifdef __NR_semop
	NR(semop),
#endif
#ifdef __NR_socketcall	/* i386's glibc sends and receives through it */
	NR(socketcall),
#endif
#ifdef __NR_ipc		/* and makes its System V calls through this one */
	NR(ipc),
#endif
#ifdef __NR_semtimedop	/* i386 has only semtimedop_time64 */
	NR(semtimedop),
#endif
};

const char *hx_syscall_name(long nr)
{
	static char unknown[32];
	for (size_t i = 0; i < sizeof syscalls / sizeof syscalls[0]; i++)
		if (syscalls[i].nr == nr)
			return syscalls[i].name;
	snprintf(unknown, sizeof unknown, "syscall %ld", nr);
	return unknown;
}
