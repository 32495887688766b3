#include "ipcproof.h"

CASE(fifo, placeholder) { cr_assert(1); }
