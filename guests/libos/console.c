/*
 * console.c: the console, the clocks and sleeping.
 */
#include "libos.h"

int64_t nabla_console_write(const char *buf, size_t len)
{
    if (len == 0)
        return 0;
    return nabla__hc()->puts(buf, len);
}

void nabla__console_str(const char *s)
{
    nabla_console_write(s, strlen(s));
}

/* A clock read that failed (it cannot, for the two valid ids, short of a
 * broken host) reads as 0, which every caller can treat as "long ago". */
static uint64_t read_clock(uint32_t clock)
{
    int64_t ns = nabla__hc()->walltime(clock);
    return ns < 0 ? 0 : (uint64_t)ns;
}

uint64_t nabla_clock_monotonic(void)
{
    return read_clock(NABLA_CLOCK_MONOTONIC);
}

uint64_t nabla_clock_wall(void)
{
    return read_clock(NABLA_CLOCK_REALTIME);
}

int64_t nabla_poll(uint64_t timeout_ns, uint64_t *ready)
{
    return nabla__hc()->poll(timeout_ns, ready);
}

void nabla_sleep_ns(uint64_t ns)
{
    uint64_t now = nabla_clock_monotonic();
    /* Saturate rather than wrap for absurd requests. */
    uint64_t deadline = ns > UINT64_MAX - now ? UINT64_MAX : now + ns;

    /* poll returns early when a NIC has input (which we leave queued) or
     * when the tender is interrupted, so wait again for what is left. A
     * failing poll also returns at once; the loop then spins until the
     * deadline, which is still correct. */
    while (now < deadline) {
        uint64_t ready;
        nabla_poll(deadline - now, &ready);
        now = nabla_clock_monotonic();
    }
}
