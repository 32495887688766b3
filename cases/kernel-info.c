/* What a kernel says about itself, as one JSON object: run inside every
 * target, so the report names the kernel that really ran the cases.  The
 * word size is the cases' ABI (a long, a pointer), not the kernel's: i386
 * binaries on an x86_64 kernel report 32 through its compat layer. */
#include <stdio.h>
#include <sys/utsname.h>
#include <unistd.h>

static void put(const char *key, const char *value, const char *sep)
{
	printf("\"%s\": \"", key);
	for (const char *c = value; *c; c++)
		if (*c == '"' || *c == '\\')
			printf("\\%c", *c);
		else if ((unsigned char)*c >= 0x20)
			putchar(*c);
	printf("\"%s", sep);
}

int main(void)
{
	struct utsname u;
	if (uname(&u) != 0)
		return 1;
	printf("{");
	put("release", u.release, ", ");
	put("machine", u.machine, ", ");
	put("version", u.version, ", ");
	printf("\"page_size\": %ld, ", sysconf(_SC_PAGESIZE));
	printf("\"word_bits\": %zu}\n", sizeof(long) * 8);
	return 0;
}
