/*
 * walltime-bench: `walltime-bench N` (default 1000000) times N calls of the
 * walltime hypercall on the monotonic clock, the cheapest round trip into
 * the tender, and prints one line:
 *
 *     walltime: N calls, T ns total, X.XX ns/call
 */
#include <nabla.h>

int main(int argc, char **argv)
{
    uint64_t n = 1000000;
    if (argc >= 2 && (nabla_parse_u64(argv[1], &n) != 0 || n == 0)) {
        printf("walltime-bench: '%s' is not a positive number\n", argv[1]);
        return 2;
    }

    int64_t (*walltime)(uint32_t) = nabla_hypercall_table()->walltime;
    uint64_t start = nabla_clock_monotonic();
    for (uint64_t i = 0; i < n; i++) {
        /* Through a volatile sink so the calls cannot be dropped. */
        volatile int64_t t = walltime(NABLA_CLOCK_MONOTONIC);
        (void)t;
    }
    uint64_t total = nabla_clock_monotonic() - start;

    /* Hundredths of a nanosecond per call, in integers; the product fits
     * 64 bits for any run shorter than about 5 years. */
    uint64_t centi = total * 100 / n;
    printf("walltime: %llu calls, %llu ns total, %llu.%02llu ns/call\n",
           (unsigned long long)n, (unsigned long long)total,
           (unsigned long long)(centi / 100), (unsigned long long)(centi % 100));
    return 0;
}
