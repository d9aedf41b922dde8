/*
 * string-test: checks the library OS's memcpy, memmove, memset and strlen
 * (guests/libos/string.S) against byte-at-a-time references.
 *
 * Every size from 0 to 300 at every source and destination alignment
 * modulo 32, overlap in both directions at every distance up to 80 bytes
 * and a few far ones, sizes around each change of method (16, 32, 64,
 * 256, 2048) and up to 1 MiB, the bytes around the destination left
 * alone, the return values, and that the functions linked are the library
 * OS's, not newlib's; on a CPU with AVX2 both its paths and the SSE ones.
 * Prints one line per failure (the first 20) and a summary; exits 0 if
 * everything passed, 1 otherwise.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void *nabla_string_memcpy(void *, const void *, size_t);
void *nabla_string_memmove(void *, const void *, size_t);
void *nabla_string_memset(void *, int, size_t);
size_t nabla_string_strlen(const char *);
extern unsigned char nabla_string_avx2;

static unsigned long checks, failures;

static void check(int ok, const char *what, size_t size, size_t a, size_t b)
{
    checks++;
    if (ok)
        return;
    if (++failures <= 20)
        printf("FAIL %s: size %zu, %zu, %zu\n", what, size, a, b);
}

/* A byte pattern that differs between calls (xorshift). */
static unsigned long seed = 88172645463325252ul;
static void fill(unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        p[i] = (unsigned char)seed;
    }
}

static int same(const unsigned char *a, const unsigned char *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (a[i] != b[i])
            return 0;
    return 1;
}

/* memmove by hand: through a copy, so overlap cannot matter. */
static void reference_move(unsigned char *dst, const unsigned char *src, size_t n, unsigned char *scratch)
{
    for (size_t i = 0; i < n; i++)
        scratch[i] = src[i];
    for (size_t i = 0; i < n; i++)
        dst[i] = scratch[i];
}

#define SMALL 300
#define PAD 64

static unsigned char src[SMALL + 2 * PAD], dst[SMALL + 2 * PAD], want[SMALL + 2 * PAD];
static unsigned char area[4 * SMALL], area_want[4 * SMALL], scratch[1 << 21];

static void small_copies(void)
{
    for (size_t n = 0; n <= SMALL; n++)
        for (size_t sa = 0; sa < 32; sa++)
            for (size_t da = 0; da < 32; da++) {
                fill(src, sizeof src);
                fill(dst, sizeof dst);
                for (size_t i = 0; i < sizeof dst; i++)
                    want[i] = dst[i];
                for (size_t i = 0; i < n; i++)
                    want[PAD + da + i] = src[PAD + sa + i];
                void *r = memcpy(dst + PAD + da, src + PAD + sa, n);
                check(r == dst + PAD + da && same(dst, want, sizeof dst), "memcpy", n, sa, da);
                fill(dst, sizeof dst);
                for (size_t i = 0; i < sizeof dst; i++)
                    want[i] = dst[i];
                for (size_t i = 0; i < n; i++)
                    want[PAD + da + i] = src[PAD + sa + i];
                r = memmove(dst + PAD + da, src + PAD + sa, n);
                check(r == dst + PAD + da && same(dst, want, sizeof dst), "memmove apart", n, sa, da);
            }
}

static void small_sets(void)
{
    static const int values[] = { 0, 0xff, 0x80, 0x5a, 0x1a5 /* only the low byte counts */ };
    for (size_t n = 0; n <= SMALL; n++)
        for (size_t da = 0; da < 32; da++)
            for (size_t v = 0; v < sizeof values / sizeof values[0]; v++) {
                fill(dst, sizeof dst);
                for (size_t i = 0; i < sizeof dst; i++)
                    want[i] = dst[i];
                for (size_t i = 0; i < n; i++)
                    want[PAD + da + i] = (unsigned char)values[v];
                void *r = memset(dst + PAD + da, values[v], n);
                check(r == dst + PAD + da && same(dst, want, sizeof dst), "memset", n, da, (size_t)values[v]);
            }
}

/* Source and destination in one buffer, the destination `distance` bytes
 * above (positive) or below (negative) the source. */
static void overlapping_move(size_t n, long distance, size_t base)
{
    fill(area, sizeof area);
    for (size_t i = 0; i < sizeof area; i++)
        area_want[i] = area[i];
    unsigned char *s = area + base, *d = area + base + distance;
    reference_move(area_want + base + distance, area_want + base, n, scratch);
    void *r = memmove(d, s, n);
    check(r == d && same(area, area_want, sizeof area), "memmove overlapping", n, base, (size_t)distance);
}

static void small_overlaps(void)
{
    for (size_t n = 0; n <= SMALL; n++)
        for (long distance = -80; distance <= 80; distance++)
            overlapping_move(n, distance, SMALL + (size_t)(n % 32));
    for (size_t n = 0; n <= SMALL; n += 7)
        for (long distance = -300; distance <= 300; distance += 37)
            overlapping_move(n, distance, SMALL + 3);
}

static void lengths(void)
{
    for (size_t n = 0; n <= SMALL; n++)
        for (size_t a = 0; a < 32; a++) {
            fill(src, sizeof src);
            /* No 0 but the terminator (and the bytes after it, as garbage). */
            for (size_t i = 0; i < sizeof src; i++)
                if (src[i] == 0)
                    src[i] = 1;
            src[a + n] = 0;
            check(strlen((char *)src + a) == n, "strlen", n, a, 0);
        }
}

/* Sizes around each change of method and up to 1 MiB, both directions of
 * overlap, in heap buffers. */
static void large(void)
{
    static const size_t sizes[] = { 2047, 2048, 2049, 4095, 4096, 4097, 65536 + 5, 1 << 20, (1 << 20) + 3 };
    size_t cap = (1 << 20) + 4096;
    unsigned char *a = malloc(cap), *b = malloc(cap), *w = malloc(cap);
    if (a == NULL || b == NULL || w == NULL) {
        check(0, "malloc for the large sizes", cap, 0, 0);
        return;
    }
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        size_t n = sizes[i];
        for (size_t off = 0; off < 3; off++) {
            fill(a, cap);
            fill(b, cap);
            for (size_t j = 0; j < cap; j++)
                w[j] = b[j];
            for (size_t j = 0; j < n; j++)
                w[off + j] = a[3 + j];
            check(memcpy(b + off, a + 3, n) == b + off && same(b, w, cap), "memcpy large", n, off, 3);
            for (size_t j = 0; j < n; j++)
                w[off + j] = (unsigned char)0xc3;
            check(memset(b + off, 0xc3, n) == b + off && same(b, w, cap), "memset large", n, off, 0);
            static const size_t distances[] = { 1, 15, 64, 1000, 4000 };
            for (size_t k = 0; k < sizeof distances / sizeof distances[0]; k++) {
                size_t dist = distances[k];
                if (n + dist + off > cap)
                    continue;
                /* Destination above, then below, the source. */
                fill(a, cap);
                for (size_t j = 0; j < cap; j++)
                    w[j] = a[j];
                reference_move(w + off + dist, w + off, n, scratch);
                check(memmove(a + off + dist, a + off, n) == a + off + dist && same(a, w, cap), "memmove large up", n, off, dist);
                fill(a, cap);
                for (size_t j = 0; j < cap; j++)
                    w[j] = a[j];
                reference_move(w + off, w + off + dist, n, scratch);
                check(memmove(a + off, a + off + dist, n) == a + off && same(a, w, cap), "memmove large down", n, off, dist);
            }
        }
        for (size_t j = 0; j < n; j++)
            a[j] = 'x';
        a[n] = 0;
        check(strlen((char *)a) == n, "strlen large", n, 0, 0);
    }
    free(a);
    free(b);
    free(w);
}

int main(void)
{
    /* Through volatile pointers: the compiler may take two functions it
     * knows by different names for different functions. */
    void *volatile linked[] = { (void *)memcpy, (void *)memmove, (void *)memset, (void *)strlen };
    void *volatile ours[] = { (void *)nabla_string_memcpy, (void *)nabla_string_memmove,
                              (void *)nabla_string_memset, (void *)nabla_string_strlen };
    for (size_t i = 0; i < 4; i++)
        check(linked[i] == ours[i], "the library OS's function is the one linked", 0, i, 0);
    /* Both ways where the CPU has AVX2: its paths, then the SSE ones. */
    int avx2 = nabla_string_avx2;
    for (int pass = 0; pass < (avx2 ? 2 : 1); pass++) {
        nabla_string_avx2 = (unsigned char)(avx2 && pass == 0);
        small_copies();
        small_sets();
        small_overlaps();
        lengths();
        large();
    }
    printf("string-test: %s: %lu checks, %lu failures\n", avx2 ? "AVX2 and SSE paths" : "SSE paths", checks, failures);
    return failures == 0 ? 0 : 1;
}
