/* Placeholder until the fifo cases land. */
int main(void) { return 0; }
