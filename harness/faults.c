/* Faults as outcomes: a child that touches memory says where it faulted. */
#include "internal.h"

#include <limits.h>
#include <signal.h>

static const char *fault_base;

static const char *code_name(int sig, int code)
{
	if (code == SI_KERNEL)
		return "SI_KERNEL";
	if (sig == SIGSEGV)
		return code == SEGV_MAPERR ? "SEGV_MAPERR" : code == SEGV_ACCERR ? "SEGV_ACCERR" : "other";
	if (sig == SIGBUS)
		return code == BUS_ADRERR ? "BUS_ADRERR" : code == BUS_ADRALN ? "BUS_ADRALN"
			: code == BUS_OBJERR ? "BUS_OBJERR" : "other";
	return "other";
}

/* Records the fault, then lets it happen again under the default action,
 * so the parent still sees the child killed by the real signal. */
static void on_fault(int sig, siginfo_t *si, void *ctx)
{
	(void)ctx;
	hx_evidence("fault.signal", "%s", hx_signal_name(sig));
	hx_evidence("fault.offset", "%ld", (long)((const char *)si->si_addr - fault_base));
	hx_evidence("fault.si_code", "%s", code_name(sig, si->si_code));
	signal(sig, SIG_DFL);
}

void hx_catch_faults(const void *base)
{
	struct sigaction sa = { .sa_sigaction = on_fault, .sa_flags = SA_SIGINFO };
	fault_base = base;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGBUS, &sa, NULL);
}
