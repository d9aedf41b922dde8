/* The native twin of guests/test-pass: the same three tests, printing the
 * same TAP, as an ordinary static Linux program (bench/testloop.sh). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int square(int x) { return x * x; }

int main(void)
{
    int failed = 0;
    char buffer[32];
    printf("TAP version 13\n1..3\n");
    failed |= !(1 + 1 == 2 && square(7) == 49 && sizeof(uint64_t) == 8);
    printf("%s 1 - arithmetic\n", failed ? "not ok" : "ok");
    snprintf(buffer, sizeof buffer, "%s-%d", "nabla", 12);
    int bad = strcmp(buffer, "nabla-12") != 0 || strlen(buffer) != 8;
    printf("%s 2 - strings\n", bad ? "not ok" : "ok");
    char *p = malloc(100);
    memset(p, 'x', 100);
    int badheap = p[99] != 'x';
    free(p);
    printf("%s 3 - heap\n", badheap ? "not ok" : "ok");
    return failed | bad | badheap;
}
