/* As many CASEs as bench-criterion-empty.c has tests, each with no body:
 * the harness's per-case machinery (needs, watchdog, private directories,
 * fd-leak check, sweep, result line) over Criterion's own cost.  The claim
 * id is in no catalog and the binary is no area (cases/areas): nothing
 * reports it as a conformance result.  driver/bench_runtime.py runs it. */
#include "ipcproof.h"

#define EMPTY(i) CASE(bench_empty, t##i, "bench.empty") {}
#include "bench-tests.h"
