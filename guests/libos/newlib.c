/*
 * newlib.c: the library OS as the platform of newlib, the guests' C library
 * (built by guests/libc/build-newlib.sh with --disable-newlib-supplied-
 * syscalls). newlib's stdio, malloc, time and exit end in the POSIX calls
 * below, which a hosted C library would make as system calls:
 *
 *   read, write, close, fstat, isatty, fcntl, poll, dup...   the
 *             descriptor table (fd.c): the standard streams, files
 *             (files.c) and sockets (guests/net) alike
 *   open, stat, mkdir, unlink, rename...   the file systems (files.c)
 *   sbrk      the heap region of the boot info
 *   gettimeofday, clock_gettime, nanosleep, times, getrusage   the walltime
 *             (three clocks) and poll hypercalls
 *   getpid, getuid, getgid, ...   the tender's identity from the boot info
 *   sysconf, uname   constants of the platform
 *   _exit     back to _start (start.c)
 *
 * A guest has no processes or signals, and its file systems no hard links:
 * link, fork, execve, wait and kill fail with ENOSYS ("Function not
 * implemented").
 */
#include "libos.h"

#include <limits.h>
#include <malloc.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/times.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

/* newlib's reentrant wrappers (_write_r, _open_r, ...) copy the global
 * errno into the caller's after a stub fails; a guest calling a stub
 * directly reads its own errno (__errno()). A failing stub sets both. */
#undef errno
extern int errno;

int nabla__fail(int code)
{
    errno = code;
    *__errno() = code;
    return -1;
}

int nabla_puts(const char *s)
{
    return fputs(s, stdout);
}

int nabla_flush(void)
{
    return fflush(stdout);
}

/* ---- Heap ----------------------------------------------------------------------- */

static uintptr_t heap_start, heap_end, heap_break;

void nabla__heap_init(uint64_t start, uint64_t end)
{
    heap_start = heap_break = (uintptr_t)start;
    heap_end = (uintptr_t)end;
}

void *sbrk(ptrdiff_t increment)
{
    uintptr_t old = heap_break;
    if (increment >= 0 ? (uintptr_t)increment > heap_end - old
                       : (uintptr_t)-increment > old - heap_start) {
        nabla__fail(ENOMEM);
        return (void *)-1;
    }
    heap_break = old + (uintptr_t)increment;
    return (void *)old;
}

/* newlib declares it; Embedded Swift allocates with it. */
int posix_memalign(void **out, size_t alignment, size_t size)
{
    if (alignment < sizeof(void *) || (alignment & (alignment - 1)) != 0)
        return EINVAL;
    void *p = memalign(alignment, size);
    if (p == NULL)
        return ENOMEM;
    *out = p;
    return 0;
}

/* newlib 3.3.0's malloc fills a struct mallinfo of ints (mallocr.c), while
 * its <malloc.h> declares one of size_t: its own mallinfo() returns the
 * ints to callers that read size_ts. This one converts. */
struct newlib_mallinfo {
    int arena, ordblks, smblks, hblks, hblkhd, usmblks, fsmblks, uordblks, fordblks, keepcost;
};
extern struct newlib_mallinfo nabla__newlib_mallinfo(struct _reent *) __asm__("_mallinfo_r");

struct mallinfo mallinfo(void)
{
    struct newlib_mallinfo m = nabla__newlib_mallinfo(_REENT);
    return (struct mallinfo){
        .arena = (size_t)m.arena, .ordblks = (size_t)m.ordblks, .smblks = (size_t)m.smblks,
        .hblks = (size_t)m.hblks, .hblkhd = (size_t)m.hblkhd, .usmblks = (size_t)m.usmblks,
        .fsmblks = (size_t)m.fsmblks, .uordblks = (size_t)m.uordblks, .fordblks = (size_t)m.fordblks,
        .keepcost = (size_t)m.keepcost,
    };
}

/* ---- Clocks and sleeping ----------------------------------------------------------- */

/* CPU time the process has used, in nanoseconds (the tender's
 * CLOCK_PROCESS_CPUTIME_ID: the guest and the hypercalls it made, plus the
 * tender's start-up, a millisecond or so). 0 if the clock failed. */
static uint64_t cpu_time(void)
{
    int64_t ns = nabla__hc()->walltime(NABLA_CLOCK_CPUTIME);
    return ns < 0 ? 0 : (uint64_t)ns;
}

int clock_gettime(clockid_t clock, struct timespec *ts)
{
    uint64_t ns;
    if (clock == CLOCK_REALTIME)
        ns = nabla_clock_wall();
    else if (clock == CLOCK_MONOTONIC)
        ns = nabla_clock_monotonic();
    else if (clock == CLOCK_PROCESS_CPUTIME_ID || clock == CLOCK_THREAD_CPUTIME_ID)
        ns = cpu_time();  /* one thread: its time is the process's */
    else
        return nabla__fail(EINVAL);
    ts->tv_sec = (time_t)(ns / 1000000000u);
    ts->tv_nsec = (long)(ns % 1000000000u);
    return 0;
}

int clock_getres(clockid_t clock, struct timespec *res)
{
    if (clock != CLOCK_REALTIME && clock != CLOCK_MONOTONIC &&
        clock != CLOCK_PROCESS_CPUTIME_ID && clock != CLOCK_THREAD_CPUTIME_ID)
        return nabla__fail(EINVAL);
    if (res) {
        res->tv_sec = 0;
        res->tv_nsec = 1;
    }
    return 0;
}

int gettimeofday(struct timeval *tv, void *tz)
{
    (void)tz;
    uint64_t ns = nabla_clock_wall();
    tv->tv_sec = (time_t)(ns / 1000000000u);
    tv->tv_usec = (suseconds_t)(ns % 1000000000u / 1000u);
    return 0;
}

int nanosleep(const struct timespec *request, struct timespec *remaining)
{
    if (request->tv_sec < 0 || request->tv_nsec < 0 || request->tv_nsec >= 1000000000)
        return nabla__fail(EINVAL);
    nabla_sleep_ns((uint64_t)request->tv_sec * 1000000000u + (uint64_t)request->tv_nsec);
    if (remaining)
        remaining->tv_sec = remaining->tv_nsec = 0;
    return 0;
}

int usleep(useconds_t us)
{
    nabla_sleep_ns((uint64_t)us * 1000u);
    return 0;
}

unsigned sleep(unsigned seconds)
{
    nabla_sleep_ns((uint64_t)seconds * 1000000000u);
    return 0;
}

/* times() counts in CLK_TCK (newlib: CLOCKS_PER_SEC, 1000) ticks. The
 * process's CPU time is all user time: the host does not split it. clock()
 * (newlib) is tms_utime + tms_stime; the result is elapsed real time. */
clock_t times(struct tms *t)
{
    const uint64_t tick = 1000000000u / CLOCKS_PER_SEC;
    t->tms_utime = (clock_t)(cpu_time() / tick);
    t->tms_stime = t->tms_cutime = t->tms_cstime = 0;
    return (clock_t)(nabla_clock_monotonic() / tick);
}

/* The process's CPU time as user time (see times); children: none. */
int getrusage(int who, struct rusage *usage)
{
    if (who != RUSAGE_SELF && who != RUSAGE_CHILDREN)
        return nabla__fail(EINVAL);
    memset(usage, 0, sizeof *usage);
    if (who == RUSAGE_SELF) {
        uint64_t ns = cpu_time();
        usage->ru_utime.tv_sec = (time_t)(ns / 1000000000u);
        usage->ru_utime.tv_usec = (suseconds_t)(ns % 1000000000u / 1000u);
    }
    return 0;
}

/* ---- Identity and the platform -------------------------------------------------------- */

/* The tender's own process id and real user and group ids (the boot info):
 * the process the guest is, as ps shows it. */
pid_t getpid(void)
{
    return (pid_t)nabla__info->pid;
}

uid_t getuid(void)
{
    return (uid_t)nabla__info->uid;
}

uid_t geteuid(void)
{
    return (uid_t)nabla__info->uid;
}

gid_t getgid(void)
{
    return (gid_t)nabla__info->gid;
}

gid_t getegid(void)
{
    return (gid_t)nabla__info->gid;
}

/* sysname "nabla" (a guest is not Linux: it has nine hypercalls, not
 * Linux's system calls), release the ABI version. */
int uname(struct utsname *name)
{
    static const struct utsname nabla = {
        .sysname = "nabla",
        .nodename = "nabla",
        .release = "3",
        .version = "nabla ABI 3",
        .machine = "x86_64",
    };
    _Static_assert(NABLA_ABI_VERSION == 3, "uname's release names the ABI version");
    *name = nabla;
    return 0;
}

long sysconf(int name)
{
    switch (name) {
    case _SC_PAGESIZE:
        return NABLA_PAGE_SIZE;
    case _SC_CLK_TCK:
        return CLOCKS_PER_SEC;  /* times() counts in these */
    case _SC_NPROCESSORS_ONLN:
    case _SC_NPROCESSORS_CONF:
        return 1;  /* one thread: the guest runs on one CPU at a time */
    case _SC_OPEN_MAX:
        return 1024;  /* the socket layer's table (guests/net/sockets.c) */
    case _SC_PHYS_PAGES:
        return (long)((nabla__info->mem_end - nabla__info->mem_start) / NABLA_PAGE_SIZE);
    case _SC_ARG_MAX:
        return NABLA_CMDLINE_SIZE;
    default:
        return nabla__fail(EINVAL);
    }
}

/* ---- What a guest does not have ------------------------------------------------------ */

int link(const char *old, const char *new)
{
    (void)old;
    (void)new;
    return nabla__fail(ENOSYS);
}

int kill(pid_t pid, int sig)
{
    (void)pid;
    (void)sig;
    return nabla__fail(ENOSYS);
}

pid_t fork(void)
{
    return nabla__fail(ENOSYS);
}

int execve(const char *path, char *const argv[], char *const envp[])
{
    (void)path;
    (void)argv;
    (void)envp;
    return nabla__fail(ENOSYS);
}

pid_t wait(int *status)
{
    (void)status;
    return nabla__fail(ENOSYS);
}

