/*
 * random.c: a small pseudo-random generator, for hashing seeds and the
 * stack protector guard.
 *
 * nabla version 1 has no entropy hypercall. The generator (splitmix64) is
 * seeded from the two clocks, which differ from run to run but are
 * guessable: good enough to spread hash tables and to catch accidental
 * stack smashing, useless for anything secret.
 */
#include "libos.h"

static uint64_t random_state;

static uint64_t splitmix64(void)
{
    uint64_t z = (random_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

extern uintptr_t __stack_chk_guard;

void nabla__random_init(void)
{
    uint64_t local;
    random_state = nabla_clock_wall() ^ (nabla_clock_monotonic() << 17) ^
                   (uint64_t)(uintptr_t)&local;
    /* A guard whose low byte is zero stops string overflows (which end
     * in a NUL) from reproducing it. */
    __stack_chk_guard = (uintptr_t)(splitmix64() & ~(uint64_t)0xff);
}

uint32_t arc4random(void)
{
    return (uint32_t)(splitmix64() >> 32);
}

void arc4random_buf(void *buf, size_t n)
{
    unsigned char *p = buf;
    while (n > 0) {
        uint64_t r = splitmix64();
        size_t chunk = n < sizeof r ? n : sizeof r;
        memcpy(p, &r, chunk);
        p += chunk;
        n -= chunk;
    }
}
