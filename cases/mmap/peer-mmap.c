/* Placeholder until the mmap cases land. */
int main(void) { return 0; }
