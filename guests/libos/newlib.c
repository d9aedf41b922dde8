/*
 * newlib.c: the library OS as the platform of newlib, the guests' C library
 * (built by guests/libc/build-newlib.sh with --disable-newlib-supplied-
 * syscalls). newlib's stdio, malloc, time and exit end in the POSIX calls
 * below, which a hosted C library would make as system calls:
 *
 *   write     fd 1 and 2 go to the console (the puts hypercall)
 *   read      fd 0 is always at end of file
 *   fstat     fd 0-2 are character devices, so stdout is line-buffered
 *   sbrk      the heap region of the boot info
 *   gettimeofday, clock_gettime, nanosleep   the walltime and poll hypercalls
 *   _exit     back to _start (start.c)
 *
 * A guest has no files, processes or signals: open, stat, link, unlink,
 * mkdir, fork, execve, wait, kill and fcntl fail with ENOSYS ("Function not
 * implemented"), and the fds a guest never had with EBADF.
 */
#include "libos.h"

#include <malloc.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/times.h>
#include <time.h>
#include <unistd.h>

/* newlib's reentrant wrappers (_write_r, _open_r, ...) copy the global
 * errno into the caller's after a stub fails; a guest calling a stub
 * directly reads its own errno (__errno()). A failing stub sets both. */
#undef errno
extern int errno;

static int fail(int code)
{
    errno = code;
    *__errno() = code;
    return -1;
}

static int is_std(int fd)
{
    return fd >= 0 && fd <= 2;
}

/* ---- Console, and the socket layer's descriptors ---------------------------- */

/* The socket layer (guests/net/sockets.c) owns the descriptors from 3 up,
 * when a guest links it; these references are weak, so a guest without it
 * does not pull it in, and sees them as NULL. */
__attribute__((weak)) ssize_t nabla_socket_read(int fd, void *buf, size_t len);
__attribute__((weak)) ssize_t nabla_socket_write(int fd, const void *buf, size_t len);
__attribute__((weak)) int nabla_socket_close(int fd);
__attribute__((weak)) int nabla_socket_fcntl(int fd, int cmd, int arg);

int write(int fd, const void *buf, size_t len)
{
    if (fd > 2 && nabla_socket_write)
        return (int)nabla_socket_write(fd, buf, len);
    if (fd != 1 && fd != 2)
        return fail(EBADF);
    int64_t written = nabla_console_write(buf, len);
    if (written < 0)
        return fail(EIO);
    return (int)written;
}

int read(int fd, void *buf, size_t len)
{
    if (fd > 2 && nabla_socket_read)
        return (int)nabla_socket_read(fd, buf, len);
    return fd == 0 ? 0 : fail(EBADF);
}

int close(int fd)
{
    if (fd > 2 && nabla_socket_close)
        return nabla_socket_close(fd);
    return is_std(fd) ? 0 : fail(EBADF);
}

off_t lseek(int fd, off_t offset, int whence)
{
    (void)offset;
    (void)whence;
    return fail(is_std(fd) ? ESPIPE : EBADF);
}

int fstat(int fd, struct stat *st)
{
    if (!is_std(fd))
        return fail(EBADF);
    memset(st, 0, sizeof *st);
    st->st_mode = S_IFCHR | 0600;
    return 0;
}

int isatty(int fd)
{
    if (!is_std(fd)) {
        fail(EBADF);
        return 0;
    }
    return 1;
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
        fail(ENOMEM);
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

int clock_gettime(clockid_t clock, struct timespec *ts)
{
    uint64_t ns;
    if (clock == CLOCK_REALTIME)
        ns = nabla_clock_wall();
    else if (clock == CLOCK_MONOTONIC)
        ns = nabla_clock_monotonic();
    else
        return fail(EINVAL);
    ts->tv_sec = (time_t)(ns / 1000000000u);
    ts->tv_nsec = (long)(ns % 1000000000u);
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
        return fail(EINVAL);
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

clock_t times(struct tms *t)
{
    /* CPU time is not measured: report the monotonic clock as user time. */
    clock_t ticks = (clock_t)(nabla_clock_monotonic() / (1000000000u / CLOCKS_PER_SEC));
    t->tms_utime = ticks;
    t->tms_stime = t->tms_cutime = t->tms_cstime = 0;
    return ticks;
}

/* ---- What a guest does not have ------------------------------------------------------ */

int open(const char *path, int flags, ...)
{
    (void)path;
    (void)flags;
    return fail(ENOSYS);
}

int stat(const char *path, struct stat *st)
{
    (void)path;
    (void)st;
    return fail(ENOSYS);
}

int link(const char *old, const char *new)
{
    (void)old;
    (void)new;
    return fail(ENOSYS);
}

int unlink(const char *path)
{
    (void)path;
    return fail(ENOSYS);
}

int mkdir(const char *path, mode_t mode)
{
    (void)path;
    (void)mode;
    return fail(ENOSYS);
}

int fcntl(int fd, int cmd, ...)
{
    va_list ap;
    va_start(ap, cmd);
    int arg = va_arg(ap, int);
    va_end(ap);
    if (fd > 2 && nabla_socket_fcntl)
        return nabla_socket_fcntl(fd, cmd, arg);
    return fail(is_std(fd) ? ENOSYS : EBADF);
}

pid_t getpid(void)
{
    return 1;
}

int kill(pid_t pid, int sig)
{
    (void)pid;
    (void)sig;
    return fail(ENOSYS);
}

pid_t fork(void)
{
    return fail(ENOSYS);
}

int execve(const char *path, char *const argv[], char *const envp[])
{
    (void)path;
    (void)argv;
    (void)envp;
    return fail(ENOSYS);
}

pid_t wait(int *status)
{
    (void)status;
    return fail(ENOSYS);
}

int getentropy(void *buf, size_t len)
{
    (void)buf;
    (void)len;
    return fail(ENOSYS);
}
