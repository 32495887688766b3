/* --ktap: a case binary also prints its results on stdout as KTAP version 1
 * (the kernel's Documentation/dev-tools/ktap.rst), as kselftest does, so a
 * lab that keeps nothing but the console (LAVA, a serial log) still gets
 * one result line per case, with the evidence as diagnostic lines before
 * it.  report.c decides each case's status and hands it here. */
#include "internal.h"

#include <criterion/hooks.h>
#include <criterion/internal/ordered-set.h>
#include <stdlib.h>

static bool ktap;
static int number;
static char *pending; /* the current case's diagnostic lines */
static size_t pending_len;

static void append(char **buf, size_t *len, const char *s, size_t n)
{
	char *p = realloc(*buf, *len + n + 1);
	if (!p)
		abort();
	memcpy(p + *len, s, n);
	*len += n;
	p[*len] = '\0';
	*buf = p;
}

static void appends(char **buf, size_t *len, const char *s)
{
	append(buf, len, s, strlen(s));
}

/* One line: values and messages may hold newlines; \ n r escaped as the
 * driver's results.ktap does. */
static void append_escaped(char **buf, size_t *len, const char *s)
{
	for (; s && *s; s++) {
		const char *esc = *s == '\\' ? "\\\\" : *s == '\n' ? "\\n" : *s == '\r' ? "\\r" : NULL;
		if (esc)
			appends(buf, len, esc);
		else
			append(buf, len, s, 1);
	}
}

/* Criterion rejects options it does not know, and runs its own main: the
 * option is taken out before it parses them (ELF constructors get argv on
 * glibc), left as --short-filename, which changes only how Criterion's
 * own stderr names source files. */
__attribute__((constructor)) static void ktap_option(int argc, char **argv, char **envp)
{
	(void)envp;
	for (int i = 1; i < argc && argv[i]; i++)
		if (strcmp(argv[i], "--ktap") == 0) {
			ktap = true;
			argv[i] = (char *)"--short-filename";
		}
}

ReportHook(PRE_ALL)(struct criterion_test_set *set)
{
	if (!ktap)
		return;
	size_t planned = 0; /* not n: FOREACH_SET declares its own */
	FOREACH_SET(struct criterion_suite_set *suite, set->suites) {
		FOREACH_SET(struct criterion_test *test, suite->tests) {
			if (!test->data || !test->data->disabled)
				planned++;
		}
	}
	printf("KTAP version 1\n1..%zu\n", planned);
	fflush(stdout);
}

/* The claim the case checks, as a diagnostic line before its result: a lab
 * that only reads the console still knows what each case is about. */
void hx_ktap_claim(const char *claim)
{
	if (!ktap)
		return;
	appends(&pending, &pending_len, "# claim: ");
	append_escaped(&pending, &pending_len, claim);
	appends(&pending, &pending_len, "\n");
}

void hx_ktap_evidence(const char *key, const char *value)
{
	if (!ktap)
		return;
	appends(&pending, &pending_len, "# evidence: ");
	appends(&pending, &pending_len, key);
	appends(&pending, &pending_len, "=");
	append_escaped(&pending, &pending_len, value);
	appends(&pending, &pending_len, "\n");
}

void hx_ktap_case(const char *name, const char *status, const char *message)
{
	if (!ktap)
		return;
	const char *directive = !strcmp(status, "skip")	   ? "SKIP"
				: !strcmp(status, "error")   ? "ERROR"
				: !strcmp(status, "timeout") ? "TIMEOUT"
							     : NULL;
	bool ok = !strcmp(status, "pass") || !strcmp(status, "skip");
	char *out = NULL;
	size_t len = 0;
	const char *line = message ? message : "";
	size_t first = strcspn(line, "\n");
	if (pending)
		appends(&out, &len, pending);
	/* The first line of the message is the directive's reason; the rest
	 * (or all of it, for a plain failure) are diagnostic lines. */
	for (const char *p = directive ? line + first : line; *p;) {
		p += *p == '\n';
		size_t n = strcspn(p, "\n");
		if (n) {
			appends(&out, &len, "# message: ");
			append(&out, &len, p, n);
			appends(&out, &len, "\n");
		}
		p += n;
	}
	char head[64];
	snprintf(head, sizeof head, "%s %d ", ok ? "ok" : "not ok", ++number);
	appends(&out, &len, head);
	for (const char *p = name; *p; p++)
		append(&out, &len, *p == '#' ? "_" : p, 1);
	if (directive) {
		appends(&out, &len, " # ");
		appends(&out, &len, directive);
		if (first) {
			appends(&out, &len, " ");
			append(&out, &len, line, first);
		}
	}
	appends(&out, &len, "\n");
	/* One write a case: a console reader never sees half a result. */
	fflush(stdout);
	if (write(STDOUT_FILENO, out, len) != (ssize_t)len)
		fprintf(stderr, "ipcproof: cannot write KTAP: %s\n", strerror(errno));
	free(out);
	free(pending);
	pending = NULL;
	pending_len = 0;
}
