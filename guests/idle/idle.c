/*
 * idle: an idle guest, for the density benchmark (bench/density.sh).
 *
 *   idle UNTIL_NS     sleeps in the poll hypercall until the wall clock
 *                     reaches UNTIL_NS (nanoseconds since the Unix epoch),
 *                     then exits 0
 *
 * A deadline on the wall clock, rather than a duration, lets a benchmark
 * start a thousand guests one after another and have them all end together,
 * once it has measured them. Status 2 for a bad argument.
 */
#include <nabla.h>

int main(int argc, char **argv)
{
    uint64_t until;
    if (argc != 2 || nabla_parse_u64(argv[1], &until) != 0) {
        printf("usage: idle UNTIL_NS (a wall-clock deadline in ns since the epoch)\n");
        return 2;
    }
    for (uint64_t now = nabla_clock_wall(); now < until; now = nabla_clock_wall())
        nabla_poll(until - now, 0);
    return 0;
}
