/* Native baseline for the hypercall benchmark: clock_gettime(CLOCK_MONOTONIC)
 * in a loop, timed and printed like guests/walltime-bench. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static unsigned long long now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (unsigned long long)ts.tv_sec * 1000000000ull + (unsigned long long)ts.tv_nsec;
}

int main(int argc, char **argv) {
    unsigned long long calls = argc > 1 ? strtoull(argv[1], 0, 10) : 1000000;
    volatile unsigned long long sink = 0;
    unsigned long long start = now();
    for (unsigned long long i = 0; i < calls; i++) sink += now();
    unsigned long long total = now() - start;
    unsigned long long hundredths = calls ? total * 100 / calls : 0;
    printf("walltime: %llu calls, %llu ns total, %llu.%02llu ns/call\n",
           calls, total, hundredths / 100, hundredths % 100);
    return 0;
}
