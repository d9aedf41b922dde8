/*
 * libos-test: a self-test of the guests' C library (newlib on the library
 * OS), run as a guest.
 *
 * Checks the printf family against results taken from glibc, number
 * parsing, the string and floating point functions and the allocator on
 * the library OS's heap (with newlib's own accounting after each phase).
 * Prints one line per failure and a summary; returns 0 if everything
 * passed, 1 otherwise.
 */
#include <ctype.h>
#include <malloc.h>
#include <math.h>
#include <time.h>
#include <nabla.h>

static int checks, failures;

static void fail_line(const char *what, const char *got, const char *want)
{
    failures++;
    printf("FAIL %s: got \"%s\", expected \"%s\"\n", what, got, want);
}

#define CHECK(cond)                                                     \
    do {                                                                \
        checks++;                                                       \
        if (!(cond)) {                                                  \
            failures++;                                                 \
            printf("FAIL line %d: %s\n", __LINE__, #cond);              \
        }                                                               \
    } while (0)

/* ---- printf ------------------------------------------------------------- */

/* T(expected, format, args...): the expected strings come from glibc. */
#define T(want, ...)                                                    \
    do {                                                                \
        char got[128];                                                  \
        int n = snprintf(got, sizeof got, __VA_ARGS__);                 \
        checks++;                                                       \
        if (strcmp(got, want) != 0 || n != (int)strlen(want))           \
            fail_line(#__VA_ARGS__, got, want);                         \
    } while (0)

/* Some cases are deliberately odd (flags that cancel each other). */
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Wformat"
static void test_printf(void)
{
    T("0", "%d", 0);
    T("42", "%d", 42);
    T("-42", "%d", -42);
    T("2147483647", "%i", 2147483647);
    T("-2147483648", "%d", (int)-2147483647 - 1);
    T("4294967295", "%u", 4294967295u);
    T("deadbeef", "%x", 0xdeadbeefu);
    T("DEADBEEF", "%X", 0xdeadbeefu);
    T("00001234", "%08x", 0x1234u);
    T("left      |", "%-10s|", "left");
    T("     right|", "%10s|", "right");
    T("   42|", "%5d|", 42);
    T("42   |", "%-5d|", 42);
    T("-0042", "%05d", -42);
    T("+5", "%+d", 5);
    T(" 5", "% d", 5);
    T("-5", "%+d", -5);
    T("007", "%.3d", 7);
    T("    -007|", "%8.3d|", -7);
    T("007     |", "%-8.3d|", 7);
    T("     007|", "%08.3d|", 7);
    T("|", "%.0d|", 0);
    T("     |", "%5.0d|", 0);
    T("0xff", "%#x", 255u);
    T("0XFF", "%#X", 255u);
    T("0", "%#x", 0u);
    T("010", "%#o", 8u);
    T("0", "%#o", 0u);
    T("777", "%o", 511u);
    T("0x000000ff", "%#010x", 255u);
    T("18446744073709551615", "%lu", 18446744073709551615ul);
    T("-9223372036854775808", "%ld", -9223372036854775807l - 1);
    T("18446744073709551615", "%llu", 18446744073709551615ull);
    T("-9223372036854775808", "%lld", -9223372036854775807ll - 1);
    T("fedcba9876543210", "%lx", 0xfedcba9876543210ul);
    T("fedcba9876543210", "%llx", 0xfedcba9876543210ull);
    T("123456789012", "%zu", (size_t)123456789012ull);
    T("-5", "%zd", (ptrdiff_t)-5);
    T("-99", "%jd", (intmax_t)-99);
    T("-77", "%td", (ptrdiff_t)-77);
    T("4464", "%hd", (int)70000);
    T("4464", "%hu", (unsigned)70000);
    T("-56", "%hhd", (int)200);
    T("44", "%hhu", (unsigned)300);
    T("A", "%c", 'A');
    T("  B|", "%3c|", 'B');
    T("C  |", "%-3c|", 'C');
    T("", "%s", "");
    T("ab|", "%.2s|", "abcdef");
    T("ab    |", "%-6.2s|", "abcdef");
    T("    42|", "%*d|", 6, 42);
    T("42    |", "%-*d|", 6, 42);
    T("42    |", "%*d|", -6, 42);
    T("abc|", "%.*s|", 3, "abcdef");
    T("42|", "%.*d|", -1, 42);
    T("%", "%%");
    T("100% sure", "100%% sure");
    T("0x40100000", "%p", (void *)0x40100000);
    T("              0x1234|", "%20p|", (void *)0x1234);
    T("0x1234              |", "%-20p|", (void *)0x1234);
    T("a=1, b=b", "%s=%d, %s=%x", "a", 1, "b", 0xbu);
    T("-000000123", "%010d", -123);
    T("-123      |", "%-010d|", -123);
    T("+0012", "%+05d", 12);
    T("0 0 0", "%x %X %o", 0u, 0u, 0u);

    /* snprintf truncates, terminates, and returns the full length. */
    char small[8];
    memset(small, 'x', sizeof small);
    CHECK(snprintf(small, sizeof small, "%s", "0123456789") == 10);
    CHECK(strcmp(small, "0123456") == 0);
    CHECK(snprintf(small, 1, "abc") == 3 && small[0] == 0);
    small[0] = 'q';
    CHECK(snprintf(NULL, 0, "%d", 12345) == 5);
    CHECK(snprintf(small, 0, "abc") == 3 && small[0] == 'q');

    /* printf output longer than its buffer goes out in several writes. */
    char big[1024];
    size_t used = 0;
    for (int i = 1; i <= 16; i++)
        used += (size_t)snprintf(big + used, sizeof big - used,
                                 "  line %02d of one printf longer than its buffer\n", i);
    CHECK(used < sizeof big - 1 && used > 512);
    CHECK(printf("%s", big) == (int)used);
}
#pragma clang diagnostic pop

/* ---- Number parsing ------------------------------------------------------ */

static void test_parse(void)
{
    char *end;
    const char *s;

    CHECK(atoi("42") == 42);
    CHECK(atoi("  -17xyz") == -17);
    CHECK(atoi("abc") == 0);
    CHECK(atol("+9000000000") == 9000000000l);

    s = "0x1F rest";
    CHECK(strtoul(s, &end, 0) == 31 && end == s + 4);
    s = "0X1f";
    CHECK(strtoul(s, &end, 16) == 31 && *end == 0);
    s = "0xz";
    /* C says end = s + 1 (the subject is "0"); newlib 3.3.0 differs. */
    CHECK(strtoul(s, &end, 0) == 0);
    s = "017";
    CHECK(strtoul(s, &end, 0) == 15 && *end == 0);
    s = "017";
    CHECK(strtoul(s, &end, 10) == 17 && *end == 0);
    s = "zz";
    CHECK(strtoul(s, &end, 36) == 36 * 35 + 35 && *end == 0);
    s = "  +";
    CHECK(strtoul(s, &end, 10) == 0 && end == s);
    s = "";
    CHECK(strtol(s, &end, 10) == 0 && end == s);
    CHECK(strtoul("18446744073709551615", NULL, 10) == UINT64_MAX);
    errno = 0;
    CHECK(strtoul("18446744073709551616", NULL, 10) == UINT64_MAX && errno == ERANGE);
    CHECK(strtoul("-1", NULL, 10) == UINT64_MAX);
    CHECK(strtol("9223372036854775807", NULL, 10) == INT64_MAX);
    CHECK(strtol("9223372036854775808", NULL, 10) == INT64_MAX);
    CHECK(strtol("-9223372036854775808", NULL, 10) == INT64_MIN);
    CHECK(strtol("-9223372036854775809", NULL, 10) == INT64_MIN);
    CHECK(strtoll("-0x10", NULL, 0) == -16);
    CHECK(strtol("12", NULL, 1) == 0);

    uint64_t v = 7;
    CHECK(nabla_parse_u64("1234", &v) == 0 && v == 1234);
    CHECK(nabla_parse_u64("0xffffffffffffffff", &v) == 0 && v == UINT64_MAX);
    CHECK(nabla_parse_u64("18446744073709551616", &v) == NABLA_ERANGE);
    CHECK(nabla_parse_u64("0x", &v) == NABLA_EINVAL);
    CHECK(nabla_parse_u64("", &v) == NABLA_EINVAL);
    CHECK(nabla_parse_u64(" 1", &v) == NABLA_EINVAL);
    CHECK(nabla_parse_u64("12a", &v) == NABLA_EINVAL);
    CHECK(nabla_parse_u64("-1", &v) == NABLA_EINVAL);
}

/* ---- Strings ----------------------------------------------------------------- */

static void test_strings(void)
{
    char buf[64];

    CHECK(strlen("") == 0 && strlen("abc") == 3);
    CHECK(strnlen("abcdef", 3) == 3 && strnlen("ab", 10) == 2);
    CHECK(strcmp("abc", "abc") == 0 && strcmp("abc", "abd") < 0 && strcmp("b", "abc") > 0);
    CHECK(strcmp("", "a") < 0 && strcmp("\xff", "a") > 0);
    CHECK(strncmp("abcdef", "abcxyz", 3) == 0 && strncmp("abcdef", "abcxyz", 4) < 0);
    CHECK(strncmp("ab", "ab\0x", 10) == 0);
    const char *hay = "hello, world";
    CHECK(strchr(hay, 'o') == hay + 4 && strrchr(hay, 'o') == hay + 8);
    CHECK(strchr(hay, 'z') == NULL && strchr(hay, 0) == hay + 12);
    CHECK(memchr(hay, 'w', 12) == hay + 7 && memchr(hay, 'w', 7) == NULL);

    memset(buf, 0xab, sizeof buf);
    CHECK((unsigned char)buf[0] == 0xab && (unsigned char)buf[63] == 0xab);
    CHECK(memcmp("abc", "abd", 3) < 0 && memcmp("abc", "abc", 3) == 0 && memcmp("\x80", "\x01", 1) > 0);

    for (int i = 0; i < 64; i++)
        buf[i] = (char)i;
    memmove(buf + 8, buf, 32);          /* overlapping, forwards */
    int ok = 1;
    for (int i = 0; i < 32; i++)
        ok &= buf[8 + i] == (char)i;
    CHECK(ok);
    for (int i = 0; i < 64; i++)
        buf[i] = (char)i;
    memmove(buf, buf + 8, 32);          /* overlapping, backwards */
    ok = 1;
    for (int i = 0; i < 32; i++)
        ok &= buf[i] == (char)(i + 8);
    CHECK(ok);
    memcpy(buf, "copy", 5);
    CHECK(strcmp(buf, "copy") == 0);
}

/* ---- Floating point ------------------------------------------------------------ */

static int same(double a, double b)    /* bit for bit: tells -0.0 from 0.0 */
{
    return memcmp(&a, &b, sizeof a) == 0;
}

static void test_math(void)
{
    const double inf = __builtin_inf(), nan = __builtin_nan("");

    CHECK(same(ceil(1.5), 2.0) && same(ceil(-1.5), -1.0) && same(ceil(-0.5), -0.0));
    CHECK(same(ceil(2.0), 2.0) && same(ceil(0.0), 0.0) && same(ceil(-0.0), -0.0));
    CHECK(same(floor(1.5), 1.0) && same(floor(-1.5), -2.0) && same(floor(0.5), 0.0));
    CHECK(same(floor(-0.0), -0.0) && same(floor(-2.0), -2.0));
    CHECK(same(trunc(-1.7), -1.0) && same(trunc(1.7), 1.0) && same(trunc(-0.3), -0.0));
    CHECK(same(round(0.5), 1.0) && same(round(-0.5), -1.0) && same(round(2.4999), 2.0));
    CHECK(same(round(0.49999999999999994), 0.0) && same(round(-0.2), -0.0));
    CHECK(same(ceil(4503599627370497.0), 4503599627370497.0));
    CHECK(same(ceil(1e300), 1e300) && same(floor(-1e300), -1e300));
    CHECK(same(ceil(inf), inf) && same(floor(-inf), -inf));
    CHECK(ceil(nan) != ceil(nan) && floor(nan) != floor(nan) && round(nan) != round(nan));
    CHECK(same(fabs(-3.0), 3.0) && same(copysign(2.0, -0.0), -2.0));
    CHECK(same(sqrt(16.0), 4.0) && sqrtf(9.0f) == 3.0f && ceilf(1.25f) == 2.0f);
}

/* ---- Heap ------------------------------------------------------------------------ */

static void heap_consistent(const char *phase)
{
    struct mallinfo mi = mallinfo();
    checks++;
    if (mi.uordblks + mi.fordblks != mi.arena) {
        failures++;
        printf("FAIL heap after %s: used %zu + free %zu != arena %zu\n", phase,
               (size_t)mi.uordblks, (size_t)mi.fordblks, (size_t)mi.arena);
    }
}

/* The size of the heap region the tender gave the guest. */
static size_t heap_region(void)
{
    const struct nabla_boot_info *info = nabla_boot_info();
    return (size_t)(info->heap_end - info->heap_start);
}

static uint64_t rng = 0x243f6a8885a308d3ull;

static uint64_t next_random(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static void test_heap(void)
{
    size_t heap_size = heap_region();
    size_t in_use = (size_t)mallinfo().uordblks;   /* stdio's buffers */
    CHECK(heap_size > 0);

    /* Basic allocation: alignment, contents, freeing. */
    char *a = malloc(1);
    char *b = malloc(100);
    char *c = malloc(4096);
    CHECK(a && b && c);
    CHECK(((uintptr_t)a & 15) == 0 && ((uintptr_t)b & 15) == 0 && ((uintptr_t)c & 15) == 0);
    CHECK(malloc_usable_size(b) >= 100);
    memset(a, 1, 1);
    memset(b, 2, 100);
    memset(c, 3, 4096);
    free(b);
    char *d = malloc(50);
    CHECK(d != NULL);
    free(a);
    free(c);
    free(d);
    free(NULL);
    heap_consistent("basic");
    CHECK((size_t)mallinfo().uordblks == in_use);

    /* calloc zeroes, and refuses overflowing sizes. */
    char *dirty = malloc(256);
    memset(dirty, 0x5a, 256);
    free(dirty);
    unsigned char *z = calloc(16, 16);

    CHECK(z != NULL);
    int zero = 1;
    for (int i = 0; i < 256; i++)
        zero &= z[i] == 0;
    CHECK(zero);
    free(z);
    CHECK(calloc(SIZE_MAX / 2, 3) == NULL);

    /* Aligned allocation. */
    for (size_t align = 8; align <= 65536; align <<= 1) {
        void *p = NULL;
        CHECK(posix_memalign(&p, align, 24) == 0);
        CHECK(p != NULL && ((uintptr_t)p & (align - 1)) == 0);
        void *q = aligned_alloc(align, 100);
        CHECK(q != NULL && ((uintptr_t)q & (align - 1)) == 0);
        free(p);
        free(q);
    }
    void *p = (void *)1;
    CHECK(posix_memalign(&p, 24, 8) == EINVAL && p == (void *)1);
    CHECK(posix_memalign(&p, 4, 8) == EINVAL);
    heap_consistent("aligned");

    /* realloc keeps contents when growing and shrinking. */
    char *r = malloc(10);
    memcpy(r, "0123456789", 10);
    char *blocker = malloc(16);         /* keep r from growing in place */
    r = realloc(r, 1000);
    CHECK(r != NULL && memcmp(r, "0123456789", 10) == 0);
    r = realloc(r, 5);
    CHECK(r != NULL && memcmp(r, "01234", 5) == 0);
    r = realloc(r, 2000);
    CHECK(r != NULL && memcmp(r, "01234", 5) == 0);
    free(r);
    free(blocker);
    char *n = realloc(NULL, 32);
    CHECK(n != NULL);
    free(n);
    heap_consistent("realloc");

    /* Out of memory: NULL, and the heap still works. */
    CHECK(malloc(SIZE_MAX) == NULL);
    CHECK(malloc(heap_size) == NULL && errno == ENOMEM);
    CHECK(posix_memalign(&p, 16, SIZE_MAX - 8) == ENOMEM);
    void *most = malloc(heap_size / 4 * 3);
    CHECK(most != NULL);
    CHECK(malloc(heap_size / 2) == NULL);
    free(most);
    heap_consistent("out of memory");

    /* A random workload, checking the contents of every live block. */
    enum { SLOTS = 256, ROUNDS = 20000 };
    static unsigned char *slot[SLOTS];
    static size_t slot_size[SLOTS];
    int bad = 0;
    for (int i = 0; i < ROUNDS; i++) {
        int k = (int)(next_random() % SLOTS);
        if (slot[k] != NULL) {
            for (size_t j = 0; j < slot_size[k]; j++)
                bad |= slot[k][j] != (unsigned char)(k + j);
            if (next_random() % 4 == 0) {
                size_t ns = next_random() % 3000;
                unsigned char *q = realloc(slot[k], ns ? ns : 1);
                if (q != NULL) {
                    size_t keep = slot_size[k] < ns ? slot_size[k] : ns;
                    for (size_t j = 0; j < keep; j++)
                        bad |= q[j] != (unsigned char)(k + j);
                    slot[k] = q;
                    slot_size[k] = ns ? ns : 1;
                    for (size_t j = 0; j < slot_size[k]; j++)
                        q[j] = (unsigned char)(k + j);
                }
                continue;
            }
            free(slot[k]);
            slot[k] = NULL;
        } else {
            size_t size = next_random() % 5000 + 1;
            size_t align = (size_t)16 << (next_random() % 6);
            void *q = NULL;
            if (next_random() % 3 == 0 ? posix_memalign(&q, align, size) == 0
                                       : (q = malloc(size)) != NULL) {
                slot[k] = q;
                slot_size[k] = size;
                for (size_t j = 0; j < size; j++)
                    slot[k][j] = (unsigned char)(k + j);
            }
        }
        if (i % 1000 == 0)
            heap_consistent("random workload step");
    }
    CHECK(!bad);
    for (int k = 0; k < SLOTS; k++)
        free(slot[k]);
    heap_consistent("random workload");
    CHECK((size_t)mallinfo().uordblks == in_use);
}

/* ---- The rest of the C library: what portable programs use ----------------------- */

static int compare_ints(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

static void test_libc(void)
{
    char buf[64];

    /* Floating point formatting and parsing. */
    snprintf(buf, sizeof buf, "%.3f %e %g", 3.14159, 12345.678, 0.0001);
    CHECK(strcmp(buf, "3.142 1.234568e+04 0.0001") == 0);
    CHECK(strtod("2.5e3", NULL) == 2500.0 && atof("-0.25") == -0.25);
    CHECK(fabs(sin(0.0)) < 1e-12 && fabs(pow(2.0, 10.0) - 1024.0) < 1e-9 && fabs(log(exp(1.0)) - 1.0) < 1e-12);

    /* <ctype.h>, <string.h> beyond the basics, qsort and bsearch. */
    CHECK(isdigit('7') && isalpha('q') && isspace('\t') && toupper('a') == 'A' && !isupper('a'));
    strcpy(buf, "nabla");
    strcat(buf, "-guest");
    CHECK(strcmp(buf, "nabla-guest") == 0 && strstr(buf, "gue") == buf + 6);
    char *dup = strdup(buf);
    CHECK(dup != NULL && strcmp(dup, buf) == 0);
    free(dup);
    int v[] = {5, 3, 9, 1, 7};
    qsort(v, 5, sizeof v[0], compare_ints);
    CHECK(v[0] == 1 && v[1] == 3 && v[2] == 5 && v[3] == 7 && v[4] == 9);
    int key = 7;
    CHECK(bsearch(&key, v, 5, sizeof v[0], compare_ints) == &v[3]);

    /* Without a disk named root, / is empty (docs/files.md): ENOENT. */
    errno = 0;
    CHECK(fopen("/etc/passwd", "r") == NULL && errno == ENOENT);
    CHECK(strcmp(strerror(ENOSYS), "Function not implemented") == 0);

    /* Time: the wall clock, the monotonic clock and sleeping. */
    struct timespec t0, t1, nap = {0, 20 * 1000 * 1000};
    CHECK(time(NULL) > 1600000000);
    CHECK(clock_gettime(CLOCK_MONOTONIC, &t0) == 0);
    CHECK(nanosleep(&nap, NULL) == 0);
    CHECK(clock_gettime(CLOCK_MONOTONIC, &t1) == 0);
    CHECK((t1.tv_sec - t0.tv_sec) * 1000000000L + (t1.tv_nsec - t0.tv_nsec) >= 20 * 1000 * 1000);
    CHECK(clock_gettime(12345, &t0) == -1 && errno == EINVAL);

    /* stderr reaches the console too. */
    CHECK(fprintf(stderr, "libos-test: stderr works\n") == 25);
}

/* ---- Boot info and devices ------------------------------------------------------ */

static void test_boot(void)
{
    const struct nabla_boot_info *info = nabla_boot_info();
    CHECK(info != NULL && info->abi_version == NABLA_ABI_VERSION);
    CHECK(info->heap_start <= info->heap_end && info->heap_end <= info->mem_end);
    CHECK(nabla_device_find("no-such-device", 0) == -1);
    CHECK(nabla_device(-1) == NULL && nabla_device(999) == NULL);
    CHECK(nabla_blk_read(-1, 0, NULL, 0) == NABLA_ENODEV);
    CHECK(nabla_net_write(-1, NULL, 0) == NABLA_ENODEV);
    CHECK(nabla_console_write("", 0) == 0);
}

int main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    test_printf();
    test_parse();
    test_strings();
    test_math();
    test_heap();
    test_libc();
    test_boot();
    printf("libos-test: %d checks, %d failures\n", checks, failures);
    return failures == 0 ? 0 : 1;
}
