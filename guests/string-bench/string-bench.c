/*
 * string-bench: nanoseconds per call of memcpy, memmove, memset and strlen
 * for sizes from 16 bytes to 1 MiB. Built twice by bench/strings.sh, as a
 * guest (the library OS's functions, guests/libos/string.S) and natively
 * (glibc's), and run alternately; the script prints the ratios.
 *
 *   string-bench [SLICES]   (default 15)
 *
 * Prints one line per case: "OPERATION SIZE NS_PER_CALL". Each case
 * repeats its call over one buffer (in the caches for the small sizes),
 * SLICES times as many calls as take about 1 ms, and keeps the fastest
 * slice (on a shared machine the slower ones measure the other work);
 * the buffers' contents feed a checksum that is printed, so no call can
 * be left out.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_SIZE (1 << 20)
/* Each measurement: calls taking about 1 ms. */
#define SLICE_NS 1e6

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e9 + ts.tv_nsec;
}

enum operation { MEMCPY, MEMMOVE, MEMSET, STRLEN };
static const char *const names[] = { "memcpy", "memmove", "memset", "strlen" };

static unsigned char *a, *b;
static unsigned long checksum;

/* Calls OP on SIZE bytes `calls` times; the offsets vary a little so that
 * the alignment is not always the same. */
static void run(enum operation op, size_t size, unsigned long calls)
{
    for (unsigned long i = 0; i < calls; i++) {
        size_t shift = i & 7;
        switch (op) {
        case MEMCPY: memcpy(b + shift, a + shift, size); break;
        case MEMMOVE: memmove(a + 1 + shift, a + shift, size); break;
        case MEMSET: memset(b + shift, (int)i, size); break;
        case STRLEN: checksum += strlen((char *)a + MAX_SIZE + 64 - size - shift); break;
        }
    }
    checksum += a[size / 2] + b[size / 2];
}

int main(int argc, char **argv)
{
    int slices = argc > 1 ? atoi(argv[1]) : 15;
    if (slices < 1)
        slices = 1;
    a = malloc(MAX_SIZE + 128);
    b = malloc(MAX_SIZE + 128);
    if (a == NULL || b == NULL) {
        fprintf(stderr, "string-bench: out of memory\n");
        return 1;
    }
    memset(a, 'x', MAX_SIZE + 128);
    memset(b, 'y', MAX_SIZE + 128);
    a[MAX_SIZE + 64] = 0;
    for (enum operation op = MEMCPY; op <= STRLEN; op++)
        for (size_t size = 16; size <= MAX_SIZE; size *= 4) {
            if (op == STRLEN)
                a[MAX_SIZE + 64] = 0;
            /* Calibrate: double the calls until they take one slice. */
            unsigned long calls = 1;
            for (;;) {
                double start = now_ns();
                run(op, size, calls);
                if (now_ns() - start >= SLICE_NS)
                    break;
                calls *= 2;
            }
            /* The fastest of the slices: the others lost time to the
             * machine's other work. */
            double best = 1e300;
            for (int slice = 0; slice < slices; slice++) {
                double start = now_ns();
                run(op, size, calls);
                double took = (now_ns() - start) / calls;
                if (took < best)
                    best = took;
            }
            printf("%s %zu %.2f\n", names[op], size, best);
        }
    printf("checksum %lu\n", checksum);
    return 0;
}
