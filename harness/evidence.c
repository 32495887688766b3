/* Evidence, the bottom layer: key=value lines in the case's evidence file,
 * written by the case, its children and the watchdog, read back by the
 * case (and by the report hook).  Everything else in the harness records
 * through here; nothing here calls up into the rest. */
#include "internal.h"

#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>

static struct {
	int fd;
	char path[PATH_MAX];
	pid_t case_pid;
	char step[256];
} ev = { .fd = -1 };

void hx_evidence_start(const char *path)
{
	ev.case_pid = getpid();
	if (!path)
		return;
	snprintf(ev.path, sizeof ev.path, "%s", path);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600);
	/* Far from the low numbers, whose values some cases check. */
	int high = fd < 0 ? -1 : fcntl(fd, F_DUPFD_CLOEXEC, HX_HIGH_FD);
	if (high >= 0) {
		close(fd);
		fd = high;
	}
	ev.fd = fd;
}

int hx_evidence_fd(void)
{
	return ev.fd;
}

void hx_escape_line(char *dst, size_t size, const char *src)
{
	size_t j = 0;
	for (; *src && j + 3 < size; src++) {
		if (*src == '\\' || *src == '\n') {
			dst[j++] = '\\';
			dst[j++] = *src == '\n' ? 'n' : '\\';
		} else {
			dst[j++] = *src;
		}
	}
	dst[j] = '\0';
}

void hx_evidence_v(const char *key, const char *fmt, va_list ap)
{
	char value[2048], line[4400];
	vsnprintf(value, sizeof value, fmt, ap);
	char escaped[4200];
	hx_escape_line(escaped, sizeof escaped, value);
	int n = snprintf(line, sizeof line, "%s=%s\n", key, escaped);
	if (ev.fd >= 0) {
		/* One write per line on an O_APPEND fd: lines from children and
		 * from the watchdog never interleave. */
		if (write(ev.fd, line, (size_t)n) < 0) {
			/* Nothing better to do: evidence is best effort. */
		}
	} else if (getenv("IPCPROOF_VERBOSE")) {
		fputs(line, stderr);
	}
}

void hx_evidence(const char *key, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	hx_evidence_v(key, fmt, ap);
	va_end(ap);
}

void hx_step(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(ev.step, sizeof ev.step, fmt, ap);
	va_end(ap);
	/* Written through, so a crash report can say where it was too. */
	hx_evidence("harness.step", "%s", ev.step);
}

bool hx_in_child(void)
{
	return getpid() != ev.case_pid;
}

/* Set by a layer above (the checkpoints: their waits end when a child
 * fails), which this bottom layer must not call by name. */
static void (*child_failing)(void);

void hx_on_child_failure(void (*fn)(void))
{
	child_failing = fn;
}

_Noreturn void hx_broken(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	hx_evidence_v("harness.error", fmt, ap);
	va_end(ap);
	if (hx_in_child()) {
		if (child_failing)
			child_failing();
		_exit(HX_CHILD_FAILED);
	}
	cr_assert_fail("harness error (see harness.error)");
	abort();
}

char *hx_evidence_lookup(const char *key, char *buf, size_t size)
{
	FILE *f = ev.path[0] ? fopen(ev.path, "re") : NULL;
	char line[4400];
	size_t klen = strlen(key);
	bool found = false;
	if (!f)
		return NULL;
	while (fgets(line, sizeof line, f)) {
		if (strncmp(line, key, klen) == 0 && line[klen] == '=') {
			line[strcspn(line, "\n")] = '\0';
			snprintf(buf, size, "%s", line + klen + 1);
			found = true;
		}
	}
	fclose(f);
	return found ? buf : NULL;
}

long hx_evidence_long(const char *key, long fallback)
{
	const char *s = hx_evidence_str(key);
	char *end;
	long v = strtol(s, &end, 10);
	return end != s && !*end ? v : fallback;
}

const char *hx_evidence_str(const char *key)
{
	static char buf[1024];
	return hx_evidence_lookup(key, buf, sizeof buf) ? buf : "";
}

_Noreturn void hx_child_fail(const char *file, int line, const char *fmt, ...)
{
	char msg[1024], key[64];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	snprintf(key, sizeof key, "child.%d.failure", (int)getpid());
	hx_evidence(key, "%s (%s:%d)", msg, file, line);
	if (child_failing)
		child_failing();
	_exit(HX_CHILD_FAILED);
}

const char *hx_child_reason(pid_t pid)
{
	static char out[1200];
	char key[64], value[1100];
	snprintf(key, sizeof key, "child.%d.failure", (int)pid);
	if (!hx_evidence_lookup(key, value, sizeof value))
		return "";
	snprintf(out, sizeof out, ": %s", value);
	return out;
}
