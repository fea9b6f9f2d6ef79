/* The header test links its per-header objects; compiling them was the test. */
#include <stdio.h>

int main(void)
{
	puts("1 passed, 0 failed");
	return 0;
}
