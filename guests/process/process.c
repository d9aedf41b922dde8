/*
 * process: prints what a program learns about its process, one line per
 * question, for the tests of the standard streams, entropy, clocks,
 * identity and environment (Tests/NablaTests/ProcessTests.swift):
 *
 *   process tty         isatty(0..2) and each stream's file type
 *   process streams     "to stdout" on stdout, "to stderr" on stderr
 *   process random      the boot info's entropy, then 32 bytes each of
 *                       arc4random_buf, getentropy and getrandom, in hex,
 *                       and rand() after the usual srand(time(NULL) ^ getpid())
 *   process clock       clock(), CLOCK_PROCESS_CPUTIME_ID and getrusage at
 *                       start, then after 200 ms of computing
 *   process identity    getpid, getuid, getgid, uname, sysconf
 *   process env [KEY..] getenv(KEY) for each, or the whole environ
 *   process expect-env KEY VALUE   exits 0 if getenv(KEY) is VALUE, else 1
 *   process read N      reads stdin with one read(0, buf, N) into a buffer
 *                       of N bytes, prints the result (and errno)
 */
#include <nabla.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static const char *kind(int fd)
{
    struct stat st;
    if (fstat(fd, &st) != 0)
        return "closed";
    switch (st.st_mode & S_IFMT) {
    case S_IFIFO: return "fifo";
    case S_IFCHR: return "chr";
    case S_IFREG: return "reg";
    case S_IFSOCK: return "sock";
    default: return "other";
    }
}

static void hex(const char *label, const unsigned char *bytes, size_t n)
{
    printf("%s ", label);
    for (size_t i = 0; i < n; i++)
        printf("%02x", bytes[i]);
    printf("\n");
}

static uint64_t cpu_ns(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts) != 0)
        return 0;
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void print_clocks(const char *when)
{
    struct rusage usage;
    getrusage(RUSAGE_SELF, &usage);
    printf("%s clock=%ld cputime_ns=%llu rusage_us=%lld\n", when, (long)clock(),
           (unsigned long long)cpu_ns(),
           (long long)usage.ru_utime.tv_sec * 1000000 + usage.ru_utime.tv_usec);
}

static int clocks(void)
{
    print_clocks("start");
    uint64_t start = nabla_clock_monotonic();
    volatile uint64_t sink = 0;
    while (nabla_clock_monotonic() - start < 200000000u)
        for (int i = 0; i < 10000; i++)
            sink += (uint64_t)i * 2654435761u;
    print_clocks("after");
    printf("clocks_per_sec=%ld clk_tck=%ld\n", (long)CLOCKS_PER_SEC, sysconf(_SC_CLK_TCK));
    return 0;
}

static int randomness(void)
{
    unsigned char bytes[32];
    hex("entropy", nabla_boot_info()->entropy, NABLA_ENTROPY_SIZE);
    arc4random_buf(bytes, sizeof bytes);
    hex("arc4random_buf", bytes, sizeof bytes);
    if (getentropy(bytes, sizeof bytes) != 0)
        return 1;
    hex("getentropy", bytes, sizeof bytes);
    if (getrandom(bytes, sizeof bytes, 0) != (ssize_t)sizeof bytes)
        return 1;
    hex("getrandom", bytes, sizeof bytes);
    printf("getentropy(257) %d %s\n", getentropy(bytes, 257), strerror(errno));
    printf("arc4random_uniform(10) %u\n", arc4random_uniform(10));
    srand((unsigned)time(NULL) ^ (unsigned)getpid());
    printf("rand %d %d\n", rand(), rand());
    return 0;
}

static int identity(void)
{
    struct utsname name;
    uname(&name);
    printf("pid %d uid %d gid %d euid %d egid %d\n", (int)getpid(), (int)getuid(), (int)getgid(),
           (int)geteuid(), (int)getegid());
    printf("uname %s %s %s %s\n", name.sysname, name.release, name.version, name.machine);
    printf("sysconf pagesize %ld clk_tck %ld nprocessors %ld open_max %ld\n", sysconf(_SC_PAGESIZE),
           sysconf(_SC_CLK_TCK), sysconf(_SC_NPROCESSORS_ONLN), sysconf(_SC_OPEN_MAX));
    return 0;
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "";
    if (strcmp(mode, "tty") == 0) {
        for (int fd = 0; fd <= 2; fd++)
            printf("fd %d isatty %d %s\n", fd, isatty(fd), kind(fd));
        return 0;
    }
    if (strcmp(mode, "streams") == 0) {
        printf("to stdout\n");
        fprintf(stderr, "to stderr\n");
        return 0;
    }
    if (strcmp(mode, "random") == 0)
        return randomness();
    if (strcmp(mode, "clock") == 0)
        return clocks();
    if (strcmp(mode, "identity") == 0)
        return identity();
    if (strcmp(mode, "env") == 0) {
        if (argc == 2)
            for (char **e = environ; *e; e++)
                printf("%s\n", *e);
        for (int i = 2; i < argc; i++) {
            const char *value = getenv(argv[i]);
            printf("%s %s\n", argv[i], value ? value : "(unset)");
        }
        return 0;
    }
    if (strcmp(mode, "expect-env") == 0 && argc == 4) {
        const char *value = getenv(argv[2]);
        printf("%s is %s\n", argv[2], value ? value : "(unset)");
        return value && strcmp(value, argv[3]) == 0 ? 0 : 1;
    }
    if (strcmp(mode, "read") == 0 && argc == 3) {
        uint64_t size;
        if (nabla_parse_u64(argv[2], &size) != 0)
            return 2;
        char *buffer = malloc(size ? size : 1);
        errno = 0;
        int n = read(0, buffer, size);
        printf("read %d errno %d\n", n, errno);
        return 0;
    }
    fprintf(stderr, "usage: process tty|streams|random|clock|identity|env [KEY...]|expect-env KEY VALUE|read N\n");
    return 2;
}
