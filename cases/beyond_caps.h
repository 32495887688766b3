/* The effective capabilities of the calling process, for the cases whose
 * claim is about a capability rather than about root: a root without
 * CAP_SYS_RESOURCE (a container's) is no more privileged than anyone. */
#ifndef BEYOND_CAPS_H
#define BEYOND_CAPS_H

#include "ipcproof.h"

#include <linux/capability.h>
#include <sys/syscall.h>

static struct __user_cap_data_struct beyond_caps[2];
static struct __user_cap_header_struct beyond_cap_header = { _LINUX_CAPABILITY_VERSION_3, 0 };

static inline bool has_effective_cap(int cap)
{
	SAFE(syscall(SYS_capget, &beyond_cap_header, beyond_caps));
	return beyond_caps[cap / 32].effective & (1u << (cap % 32));
}

/* In a child: removes cap from its effective set (it may be taken back
 * from the permitted set, which is all this needs). */
static inline void drop_effective_cap(int cap)
{
	if (!has_effective_cap(cap))
		return;
	beyond_caps[cap / 32].effective &= ~(1u << (cap % 32));
	CHILD_EXPECT(syscall(SYS_capset, &beyond_cap_header, beyond_caps) == 0, "capset: %s", hx_errno_name(errno));
}

#endif
