/* idle: the native counterpart of guests/idle: sleeps until the wall clock
 * reaches UNTIL_NS (ns since the epoch), then exits 0. Built static, as the
 * density benchmark's baseline (bench/density.sh). */
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

int main(int argc, char **argv)
{
    if (argc != 2) return 2;
    uint64_t until = strtoull(argv[1], 0, 10);
    for (;;) {
        struct timespec now;
        clock_gettime(CLOCK_REALTIME, &now);
        uint64_t ns = (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec;
        if (ns >= until) return 0;
        struct timespec wait = { (time_t)((until - ns) / 1000000000u), (long)((until - ns) % 1000000000u) };
        nanosleep(&wait, 0);
    }
}
