/* What the harness's own files share; cases include ipcproof.h only. */
#ifndef IPCPROOF_INTERNAL_H
#define IPCPROOF_INTERNAL_H

#include "ipcproof.h"

#include <stdarg.h>
#include <stdio.h>

#define HX_MAX_CHILDREN 128
/* The harness keeps its own descriptors at or above this number: far from
 * the low numbers some cases check, and under 64, because growing the fd
 * table of a process that shares it with threads waits for an RCU grace
 * period (about 15 ms a case, half of a whole run). */
#define HX_HIGH_FD 48
/* The fd-leak check looks at descriptors below this number. */
#define FD_SCAN_MAX 1024

/* The layers, each calling only those above it in this list:
 *   names.c, base.c      names for numbers; clock, time bounds, page size
 *   evidence.c           the evidence file, hx_broken, hx_child_fail
 *   fs.c, io.c, faults.c filesystems and private dirs' bases; I/O; faults
 *   children.c           fork, spawn, wait, sweep, blocked-in-the-kernel
 *   checkpoint.c, needs.c
 *   case.c               one case's life (init, fixture, watchdog, fini)
 *   report.c             the runner's side: results lines, the listing
 * driver/tests/test_harness.py checks it on the objects' symbols. */

/* Opens the case's evidence file (NULL: none) and remembers the case
 * process, so a child can tell it is one. */
void hx_evidence_start(const char *path);
int hx_evidence_fd(void);
double hx_case_limit_s(void);
/* How many descriptor numbers the fd checks look at. */
int hx_fd_scan_limit(void);

/* Evidence files are key=value lines; values have \ and newline escaped. */
void hx_evidence_v(const char *key, const char *fmt, va_list ap);
/* The value of key in the case's evidence file (the last one), or NULL. */
char *hx_evidence_lookup(const char *key, char *buf, size_t size);
void hx_escape_line(char *dst, size_t size, const char *src);

/* Remembers a child for the end-of-case sweep. */
void hx_track_child(pid_t pid);
/* SIGKILLs every process below this one (children are reparented here:
 * the case process is a child subreaper) and reaps them. */
void hx_kill_descendants(void);
/* The parent in /proc/PID/stat (0: unreadable). */
pid_t hx_parent_of(pid_t pid);
/* Kills the programs hx_spawn started that are still running and drops
 * their launchers' report pipes (at the case end). */
void hx_end_strangers(void);
/* Where a task is: "read (wchan pipe_read)", "running", ... */
void hx_describe_task(const char *proc_dir, char *buf, size_t size);

/* The shared page of the checkpoints (made once, when the case starts). */
void hx_checkpoints_share(void);
/* What hx_child_fail calls before the child exits (one function). */
void hx_on_child_failure(void (*fn)(void));
/* Where a private directory of that kind goes, or NULL with the reason
 * (a skip reason: "needs a tmpfs directory ..."). */
const char *hx_fs_base(enum hx_fs kind, char *why, size_t size);
const char *hx_default_base(void);
/* Why the case cannot run here (its needs and its variant's): 1 with the
 * reason, 0 when it can, -1 for a declared need that is not one. */
int hx_unmet_needs(const struct hx_case *c, char *why, size_t size);
/* The evidence keys naming the case's private directories, by kind. */
extern const char *const hx_tmpdir_keys[3];

/* The record of a case, by area and name, or NULL. */
const struct hx_case *hx_find_case(const char *area, const char *name);

/* Is this a child of the case process? */
bool hx_in_child(void);

const char *hx_syscall_name(long nr);
double hx_now(void);
int hx_rm_tree(const char *path);

/* --ktap (ktap.c): a case's evidence, then its result, as KTAP on stdout. */
void hx_ktap_claim(const char *claim);
void hx_ktap_evidence(const char *key, const char *value);
void hx_ktap_case(const char *name, const char *status, const char *message);

#endif
