/* Criterion report hooks, run in the runner process: one complete JSON
 * line per case (status, duration, signal, exit code, messages, evidence)
 * appended to $IPCPROOF_RESULTS.  Criterion's own JSON report lacks most
 * of this and breaks on newlines in messages. */
#include "internal.h"

#include <criterion/hooks.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>

static char evdir[PATH_MAX];
static int results_fd = -1;

struct buf {
	char *p;
	size_t len, cap;
};

static void put(struct buf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		while (b->len + n + 1 > cap)
			cap *= 2;
		char *p = realloc(b->p, cap);
		if (!p)
			abort();
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void puts_raw(struct buf *b, const char *s)
{
	put(b, s, strlen(s));
}

/* Length of a valid UTF-8 sequence at s, or 0. */
static int utf8_len(const unsigned char *s)
{
	int n = s[0] >= 0xf0 && s[0] <= 0xf4 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc2 ? 2 : 0;
	for (int i = 1; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	return n;
}

/* A JSON string; invalid UTF-8 becomes U+FFFD, so the line always parses. */
static void put_json_string(struct buf *b, const char *s)
{
	puts_raw(b, "\"");
	for (const unsigned char *c = (const unsigned char *)(s ? s : ""); *c;) {
		char esc[8];
		if (*c == '"' || *c == '\\') {
			snprintf(esc, sizeof esc, "\\%c", *c);
			puts_raw(b, esc);
			c++;
		} else if (*c < 0x20 || *c == 0x7f) {
			snprintf(esc, sizeof esc, "\\u%04x", *c);
			puts_raw(b, esc);
			c++;
		} else if (*c < 0x80) {
			put(b, (const char *)c, 1);
			c++;
		} else {
			int n = utf8_len(c);
			if (n) {
				put(b, (const char *)c, (size_t)n);
				c += n;
			} else {
				puts_raw(b, "\\ufffd");
				c++;
			}
		}
	}
	puts_raw(b, "\"");
}

/* The case's own record: its claim, where it is written, its variant. */
static void put_case_fields(struct buf *b, const struct hx_case *c)
{
	char source[PATH_MAX];
	snprintf(source, sizeof source, "%s:%u", c ? c->file : "?", c ? c->line : 0);
	puts_raw(b, ", \"claim\": ");
	put_json_string(b, c ? c->claim : "");
	puts_raw(b, ", \"source\": ");
	put_json_string(b, source);
	puts_raw(b, ", \"variant\": ");
	if (c && c->variant)
		put_json_string(b, c->variant);
	else
		puts_raw(b, "null");
}

/* Its needs, declared and as met here: what the listing adds. */
static void put_needs(struct buf *b, const struct hx_case *c)
{
	char all[1024], why[512];
	snprintf(all, sizeof all, "%s%s%s", c->needs ? c->needs : "",
		 c->needs && c->variant_needs && *c->variant_needs ? " " : "",
		 c->variant_needs && *c->variant_needs ? *c->variant_needs : "");
	puts_raw(b, ", \"needs\": [");
	bool first = true;
	for (char *save, *n = strtok_r(all, " ", &save); n; n = strtok_r(NULL, " ", &save)) {
		puts_raw(b, first ? "" : ", ");
		put_json_string(b, n);
		first = false;
	}
	puts_raw(b, "], \"skip\": ");
	if (hx_unmet_needs(c, why, sizeof why) != 0)
		put_json_string(b, why);
	else
		puts_raw(b, "null");
}

/* ---- evidence read back ------------------------------------------------ */

struct kv {
	char *key, *value;
};
struct evidence {
	struct kv items[256];
	int n;
};

static void unescape(char *s)
{
	char *out = s;
	for (; *s; s++) {
		if (*s == '\\' && (s[1] == 'n' || s[1] == '\\')) {
			*out++ = s[1] == 'n' ? '\n' : '\\';
			s++;
		} else {
			*out++ = *s;
		}
	}
	*out = '\0';
}

static void evidence_set(struct evidence *ev, const char *key, const char *value)
{
	for (int i = 0; i < ev->n; i++)
		if (strcmp(ev->items[i].key, key) == 0) {
			free(ev->items[i].value);
			ev->items[i].value = strdup(value);
			return;
		}
	if (ev->n < 256) {
		ev->items[ev->n].key = strdup(key);
		ev->items[ev->n++].value = strdup(value);
	}
}

static const char *evidence_get(const struct evidence *ev, const char *key)
{
	for (int i = 0; i < ev->n; i++)
		if (strcmp(ev->items[i].key, key) == 0)
			return ev->items[i].value;
	return NULL;
}

static void evidence_read(struct evidence *ev, const char *path)
{
	FILE *f = fopen(path, "re");
	char *line = NULL;
	size_t cap = 0;
	if (!f)
		return;
	while (getline(&line, &cap, f) > 0) {
		line[strcspn(line, "\n")] = '\0';
		char *eq = strchr(line, '=');
		if (!eq)
			continue;
		*eq = '\0';
		unescape(eq + 1);
		evidence_set(ev, line, eq + 1);
	}
	free(line);
	fclose(f);
}

static void evidence_free(struct evidence *ev)
{
	for (int i = 0; i < ev->n; i++) {
		free(ev->items[i].key);
		free(ev->items[i].value);
	}
	ev->n = 0;
}

/* ---- status ------------------------------------------------------------ */

static void add_message(struct buf *m, const char *text)
{
	if (m->len)
		puts_raw(m, "\n");
	puts_raw(m, text);
}

static const char *classify(struct criterion_test_stats *st, const struct evidence *ev,
			    struct buf *msg)
{
	char line[1200];
	const char *v;
	for (struct criterion_assert_stats *a = st->asserts; a; a = a->next)
		if (!a->passed) {
			snprintf(line, sizeof line, "%s:%u: %s", a->file ? a->file : "?",
				 a->line, a->message ? a->message : "assertion failed");
			add_message(msg, line);
		}
	if ((v = evidence_get(ev, "harness.timeout")) || st->timed_out) {
		const char *where = evidence_get(ev, "harness.hung_in");
		const char *step = evidence_get(ev, "harness.step");
		snprintf(line, sizeof line, "timed out after %ss; hung in %s%s%s", v ? v : "?",
			 where ? where : "?", step ? " while " : "", step ? step : "");
		add_message(msg, line);
		return "timeout";
	}
	if (st->crashed || st->signal) {
		const char *step = evidence_get(ev, "harness.step");
		snprintf(line, sizeof line, "case process killed by %s%s%s",
			 hx_signal_name(st->signal), step ? " while " : "", step ? step : "");
		add_message(msg, line);
		return "error";
	}
	if (st->test_status == CR_STATUS_SKIPPED) {
		if (st->message && *st->message)
			add_message(msg, st->message);
		return "skip";
	}
	if ((v = evidence_get(ev, "harness.error"))) {
		snprintf(line, sizeof line, "harness error: %s", v);
		add_message(msg, line);
		return "error";
	}
	if (st->failed_asserts > 0)
		return "fail";
	if (st->test_status != CR_STATUS_PASSED || st->exit_code != 0) {
		snprintf(line, sizeof line, "case process exited %d", st->exit_code);
		add_message(msg, line);
		return "error";
	}
	if (evdir[0] && !evidence_get(ev, "harness.end")) {
		add_message(msg, "case process ended before the harness's end-of-case check "
				 "(is it a CASE, or did it exit early?)");
		return "error";
	}
	if ((v = evidence_get(ev, "harness.fd_leak"))) {
		snprintf(line, sizeof line, "descriptors left open by the case: %s", v);
		add_message(msg, line);
		return "error";
	}
	return "pass";
}

/* A case process that died cannot sweep up after itself. */
static void clean_after_crash(const struct evidence *ev)
{
	for (int i = 0; i < 3; i++) {
		const char *dir = evidence_get(ev, hx_tmpdir_keys[i]);
		if (dir)
			hx_rm_tree(dir);
	}
}

static bool hidden_key(const char *key, const char *status)
{
	return !strcmp(key, "harness.end") || !strncmp(key, "harness.tmpdir", 14) ||
	       (!strcmp(key, "harness.step") && !strcmp(status, "pass"));
}

static void record(struct criterion_test_stats *st)
{
	struct evidence ev = { .n = 0 };
	char path[PATH_MAX + 300];
	const char *suite = st->test->category, *name = st->test->name;
	if (evdir[0]) {
		snprintf(path, sizeof path, "%s/%s.%s.ev", evdir, suite, name);
		evidence_read(&ev, path);
		unlink(path);
	}
	clean_after_crash(&ev);

	struct buf msg = { 0 }, line = { 0 };
	const char *status = classify(st, &ev, &msg);
	char num[64];
	puts_raw(&line, "{\"case\": ");
	snprintf(path, sizeof path, "%s/%s", suite, name);
	put_json_string(&line, path);
	puts_raw(&line, ", \"status\": ");
	put_json_string(&line, status);
	snprintf(num, sizeof num, ", \"duration_s\": %.6f", (double)st->elapsed_time);
	puts_raw(&line, num);
	puts_raw(&line, ", \"signal\": ");
	if (st->signal)
		put_json_string(&line, hx_signal_name(st->signal));
	else
		puts_raw(&line, "null");
	snprintf(num, sizeof num, ", \"exit_code\": %d, \"timed_out\": %s", st->exit_code,
		 st->timed_out || evidence_get(&ev, "harness.timeout") ? "true" : "false");
	puts_raw(&line, num);
	const struct hx_case *c = hx_find_case(suite, name);
	put_case_fields(&line, c);
	hx_ktap_claim(c ? c->claim : ""); /* --ktap (ktap.c) */
	puts_raw(&line, ", \"message\": ");
	put_json_string(&line, msg.p);
	puts_raw(&line, ", \"evidence\": {");
	bool first = true;
	for (int i = 0; i < ev.n; i++) {
		if (hidden_key(ev.items[i].key, status))
			continue;
		hx_ktap_evidence(ev.items[i].key, ev.items[i].value); /* --ktap (ktap.c) */
		puts_raw(&line, first ? "" : ", ");
		put_json_string(&line, ev.items[i].key);
		puts_raw(&line, ": ");
		put_json_string(&line, ev.items[i].value);
		first = false;
	}
	puts_raw(&line, "}}\n");
	hx_ktap_case(path, status, msg.p); /* --ktap (ktap.c) */

	if (results_fd >= 0) {
		if (write(results_fd, line.p, line.len) != (ssize_t)line.len)
			fprintf(stderr, "ipcproof: cannot write results: %s\n", strerror(errno));
	}
	if (strcmp(status, "pass") != 0 && strcmp(status, "skip") != 0) {
		fprintf(stderr, "[ipcproof] %s/%s: %s%s%s\n", suite, name, status,
			msg.len ? ": " : "", msg.p ? msg.p : "");
		for (int i = 0; i < ev.n; i++)
			if (!hidden_key(ev.items[i].key, status))
				fprintf(stderr, "[ipcproof]   %s=%s\n", ev.items[i].key,
					ev.items[i].value);
	}
	free(msg.p);
	free(line.p);
	evidence_free(&ev);
}

/* `<binary> --ipcproof-list`: every case of the binary, one JSON line
 * each, without running any: what the driver and the catalog's checks read. */
static int list_cases(void)
{
	extern const struct hx_case *__start_hx_cases[], *__stop_hx_cases[];
	struct buf line = { 0 };
	for (const struct hx_case **c = __start_hx_cases; c < __stop_hx_cases; c++) {
		char name[512];
		snprintf(name, sizeof name, "%s/%s", (*c)->area, (*c)->name);
		line.len = 0;
		puts_raw(&line, "{\"case\": ");
		put_json_string(&line, name);
		put_case_fields(&line, *c);
		put_needs(&line, *c);
		puts_raw(&line, "}\n");
		fputs(line.p, stdout);
	}
	free(line.p);
	return fflush(stdout) == 0 ? 0 : 1;
}

/* Criterion's own main, with the listing in front of it. */
int main(int argc, char *argv[])
{
	if (argc == 2 && strcmp(argv[1], "--ipcproof-list") == 0)
		return list_cases();
	struct criterion_test_set *tests = criterion_initialize();
	int result = 0;
	if (criterion_handle_args(argc, argv, true))
		result = !criterion_run_all_tests(tests);
	criterion_finalize(tests);
	return result;
}

ReportHook(PRE_ALL)(struct criterion_test_set *set)
{
	(void)set;
	const char *results = getenv("IPCPROOF_RESULTS");
	if (results && *results) {
		results_fd = open(results, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
		if (results_fd < 0) {
			fprintf(stderr, "ipcproof: cannot open %s: %s\n", results, strerror(errno));
			exit(2);
		}
	}
	const char *tmp = getenv("TMPDIR");
	snprintf(evdir, sizeof evdir, "%s/ipcproof-evidence-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(evdir)) {
		fprintf(stderr, "ipcproof: mkdtemp %s: %s\n", evdir, strerror(errno));
		exit(2);
	}
	/* The case processes are started after this and inherit it. */
	setenv("IPCPROOF_EVDIR", evdir, 1);
}

ReportHook(POST_FINI)(struct criterion_test_stats *st)
{
	record(st);
}

ReportHook(TEST_CRASH)(struct criterion_test_stats *st)
{
	record(st);
}

ReportHook(POST_ALL)(struct criterion_global_stats *stats)
{
	(void)stats;
	if (evdir[0])
		hx_rm_tree(evdir);
	if (results_fd >= 0)
		close(results_fd);
}
