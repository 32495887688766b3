/* Empty Criterion tests, as many as the build's bench-tests.h lists
 * (IPCPROOF_BENCH_TESTS): what Criterion alone costs per test (it
 * re-executes its binary for each), the floor under every case.  Linked
 * against the Criterion the cases use; driver/bench_runtime.py runs it. */
#include <criterion/criterion.h>

#define EMPTY(i) Test(empty, t##i) {}
#include "bench-tests.h"
