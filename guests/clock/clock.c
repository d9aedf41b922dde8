/*
 * clock: checks the clocks and sleeping. One line per check, "ok ..." or
 * "FAIL ..."; returns 0 if every check passed, 1 otherwise.
 */
#include <nabla.h>

#define MS 1000000ull
#define S  1000000000ull

/* 2024-01-01T00:00:00Z and 2100-01-01T00:00:00Z, in seconds since 1970. */
#define WALL_MIN_S 1704067200ull
#define WALL_MAX_S 4102444800ull

static int failures;

static void check(int ok, const char *what, uint64_t value, const char *unit)
{
    printf("%s %s %llu %s\n", ok ? "ok" : "FAIL", what, (unsigned long long)value, unit);
    if (!ok)
        failures++;
}

int main(int argc, char **argv)
{
    (void)argc;
    (void)argv;

    uint64_t before = nabla_clock_monotonic();
    nabla_sleep_ns(50 * MS);
    uint64_t after = nabla_clock_monotonic();
    uint64_t slept = after >= before ? after - before : 0;
    check(after >= before + 50 * MS && slept <= 5 * S, "monotonic advanced", slept, "ns");

    uint64_t wall = nabla_clock_wall();
    check(wall / S >= WALL_MIN_S && wall / S < WALL_MAX_S, "wall clock", wall / S,
          "s since the epoch");

    int64_t r = nabla_hypercall_table()->walltime(7);
    printf("%s walltime(7) returned %lld (NABLA_EINVAL is %d)\n",
           r == NABLA_EINVAL ? "ok" : "FAIL", (long long)r, NABLA_EINVAL);
    if (r != NABLA_EINVAL)
        failures++;

    return failures == 0 ? 0 : 1;
}
