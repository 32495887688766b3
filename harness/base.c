/* Time and sizes every layer shares: the clock, the time bounds, the page. */
#include "internal.h"

#include <stdlib.h>
#include <time.h>

double hx_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double env_double(const char *name, double fallback)
{
	const char *s = getenv(name);
	char *end;
	double v = s ? strtod(s, &end) : 0;
	return s && *s && !*end && v > 0 ? v : fallback;
}

double hx_time_scale(void)
{
	return env_double("IPCPROOF_TIME_SCALE", 1.0);
}

double hx_case_limit_s(void)
{
	return env_double("IPCPROOF_CASE_LIMIT", 10.0) * hx_time_scale();
}

/* A third of the case's limit: a case can wait on a few events and still
 * report a missing one itself, before the watchdog steps in. */
double hx_bound_s(void)
{
	return hx_case_limit_s() / 3;
}

long hx_page_size(void)
{
	return sysconf(_SC_PAGESIZE);
}
