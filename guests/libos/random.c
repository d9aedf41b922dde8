/*
 * random.c: the guest's randomness: a ChaCha20 generator keyed with the
 * boot info's fresh entropy (NABLA_ENTROPY_SIZE bytes from the host's
 * getrandom(2), new for every run), behind arc4random, arc4random_buf,
 * arc4random_uniform, getentropy and getrandom, and the stack protector
 * guard.
 *
 * The generator follows the "fast key erasure" construction (as OpenBSD's
 * arc4random and Linux's get_random_bytes do): each refill runs ChaCha20
 * (RFC 8439's block function, zero nonce) under the current key for
 * NABLA_RANDOM_BLOCKS blocks; the first 32 bytes become the next key and
 * the rest are handed out once, each byte wiped as it goes. Whoever reads
 * the generator's state later cannot recover what it already produced. A
 * guest has one thread and cannot fork, so the state needs no lock and no
 * reseeding.
 *
 * rand() and random() stay newlib's: deterministic until srand()/srandom(),
 * as POSIX says.
 */
#include "libos.h"

#include <sys/random.h>

#define NABLA_RANDOM_BLOCKS 8u                  /* per refill: 512 bytes */
#define NABLA_RANDOM_KEY    32u

static uint32_t key[8];
static uint8_t pool[NABLA_RANDOM_BLOCKS * 64u];
static size_t pool_left;                        /* unread bytes at the end of pool */

static inline uint32_t rotl(uint32_t x, int n)
{
    return (x << n) | (x >> (32 - n));
}

#define QUARTER(a, b, c, d)                       \
    a += b; d ^= a; d = rotl(d, 16);              \
    c += d; b ^= c; b = rotl(b, 12);              \
    a += b; d ^= a; d = rotl(d, 8);               \
    c += d; b ^= c; b = rotl(b, 7)

/* One ChaCha20 block (20 rounds) for `counter` under `k`, nonce zero,
 * little-endian into out[64]. */
static void chacha20_block(const uint32_t k[8], uint32_t counter, uint8_t out[64])
{
    uint32_t in[16] = {
        0x61707865u, 0x3320646eu, 0x79622d32u, 0x6b206574u,  /* "expand 32-byte k" */
        k[0], k[1], k[2], k[3], k[4], k[5], k[6], k[7],
        counter, 0, 0, 0,
    };
    uint32_t x[16];
    memcpy(x, in, sizeof x);
    for (int i = 0; i < 10; i++) {
        QUARTER(x[0], x[4], x[8], x[12]);
        QUARTER(x[1], x[5], x[9], x[13]);
        QUARTER(x[2], x[6], x[10], x[14]);
        QUARTER(x[3], x[7], x[11], x[15]);
        QUARTER(x[0], x[5], x[10], x[15]);
        QUARTER(x[1], x[6], x[11], x[12]);
        QUARTER(x[2], x[7], x[8], x[13]);
        QUARTER(x[3], x[4], x[9], x[14]);
    }
    for (int i = 0; i < 16; i++) {
        uint32_t v = x[i] + in[i];
        out[4 * i] = (uint8_t)v;
        out[4 * i + 1] = (uint8_t)(v >> 8);
        out[4 * i + 2] = (uint8_t)(v >> 16);
        out[4 * i + 3] = (uint8_t)(v >> 24);
    }
}

/* Fills the pool under the current key and replaces the key with the
 * pool's first 32 bytes, which are then wiped. */
static void refill(void)
{
    for (uint32_t block = 0; block < NABLA_RANDOM_BLOCKS; block++)
        chacha20_block(key, block, pool + 64u * block);
    for (int i = 0; i < 8; i++) {
        key[i] = (uint32_t)pool[4 * i] | (uint32_t)pool[4 * i + 1] << 8 |
                 (uint32_t)pool[4 * i + 2] << 16 | (uint32_t)pool[4 * i + 3] << 24;
    }
    memset(pool, 0, NABLA_RANDOM_KEY);
    pool_left = sizeof pool - NABLA_RANDOM_KEY;
}

extern uintptr_t __stack_chk_guard;

void nabla__random_init(void)
{
    const uint8_t *seed = nabla__info->entropy;
    for (int i = 0; i < 8; i++) {
        key[i] = (uint32_t)seed[4 * i] | (uint32_t)seed[4 * i + 1] << 8 |
                 (uint32_t)seed[4 * i + 2] << 16 | (uint32_t)seed[4 * i + 3] << 24;
    }
    pool_left = 0;
    uintptr_t guard;
    arc4random_buf(&guard, sizeof guard);
    /* A guard whose low byte is zero stops string overflows (which end
     * in a NUL) from reproducing it. */
    __stack_chk_guard = guard & ~(uintptr_t)0xff;
}

void arc4random_buf(void *buf, size_t n)
{
    unsigned char *p = buf;
    while (n > 0) {
        if (pool_left == 0)
            refill();
        size_t take = n < pool_left ? n : pool_left;
        uint8_t *from = pool + sizeof pool - pool_left;
        memcpy(p, from, take);
        memset(from, 0, take);
        p += take;
        n -= take;
        pool_left -= take;
    }
}

uint32_t arc4random(void)
{
    uint32_t r;
    arc4random_buf(&r, sizeof r);
    return r;
}

/* Uniform in [0, bound) without modulo bias: rejects the values below
 * 2^32 mod bound. */
uint32_t arc4random_uniform(uint32_t bound)
{
    if (bound < 2)
        return 0;
    uint32_t floor = (uint32_t)-bound % bound;
    for (;;) {
        uint32_t r = arc4random();
        if (r >= floor)
            return r % bound;
    }
}

int getentropy(void *buf, size_t len)
{
    /* As on Linux and OpenBSD: at most 256 bytes a call. */
    if (len > 256) {
        errno = EIO;
        return -1;
    }
    arc4random_buf(buf, len);
    return 0;
}

ssize_t getrandom(void *buf, size_t len, unsigned int flags)
{
    if (flags & ~(unsigned)(GRND_NONBLOCK | GRND_RANDOM)) {
        errno = EINVAL;
        return -1;
    }
    /* As Linux's getrandom: at most 33554431 bytes a call. */
    if (len > 0x1ffffffu)
        len = 0x1ffffffu;
    arc4random_buf(buf, len);
    return (ssize_t)len;
}
