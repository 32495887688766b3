#include "ipcproof.h"

CASE(mmap, placeholder) { cr_assert(1); }
