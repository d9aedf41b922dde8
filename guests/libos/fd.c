/*
 * fd.c: the one descriptor table. Each descriptor is a kind (its
 * operations, struct nabla_fd_ops) and an object of that kind; dup'ed
 * descriptors share the object, which is closed with the last of them.
 * The standard streams are installed here at start-up; files
 * (files.c) and sockets (guests/net/sockets.c) install theirs with
 * nabla_fd_open. read, write, close, poll, lseek, fstat, isatty, fcntl,
 * dup, dup2, pread, pwrite, ftruncate and fsync dispatch through the
 * table, so they work on any descriptor.
 *
 * The table is 16 KiB of zeroed memory that no page holds until a
 * descriptor above the first few is used; a guest without files or
 * sockets links nothing but this file and the stream operations.
 */
#include "libos.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <nabla_fd.h>
#include <poll.h>
#include <stdarg.h>
#include <unistd.h>

struct fd_entry {
    const struct nabla_fd_ops *ops;
    void *obj;
};

static struct fd_entry table[NABLA_FD_MAX];
static int (*waiter)(uint64_t deadline);

/* ---- The standard streams --------------------------------------------------- */

/* The object of a standard stream is its number plus one (never NULL). */
static int stream_of(void *obj)
{
    return (int)(uintptr_t)obj - 1;
}

/* The errno of a failed console, stdin or stderr hypercall. */
static int stream_error(int64_t code)
{
    switch (code) {
    case NABLA_EAGAIN: return EAGAIN;
    case NABLA_EFAULT: return EFAULT;
    default: return EIO;
    }
}

static ssize_t stream_read(void *obj, void *buf, size_t len)
{
    /* Only fd 0 was open for reading on the host. */
    if (stream_of(obj) != 0)
        return nabla__fail(EBADF);
    /* One stdinread returns at most NABLA_STDIN_CHUNK bytes: a short read,
     * as from a pipe. */
    int64_t n = nabla__hc()->stdinread(buf, len);
    if (n < 0)
        return nabla__fail(stream_error(n));
    return (ssize_t)n;
}

static ssize_t stream_write(void *obj, const void *buf, size_t len)
{
    int fd = stream_of(obj);
    if (fd == 0)
        return nabla__fail(EBADF);
    /* A stream the tender found closed fails in the host, with EIO. */
    if (len > INT_MAX)
        len = INT_MAX;  /* a short write, as the int result of write requires */
    if (len == 0)
        return 0;
    int64_t written = fd == 1 ? nabla_console_write(buf, len) : nabla__hc()->stderrwrite(buf, len);
    if (written < 0)
        return nabla__fail(stream_error(written));
    return (ssize_t)written;
}

/* The file type the tender found on the stream; 0 if closed. */
static uint32_t stream_mode(int fd)
{
    return nabla__info->stdio_mode[fd];
}

static int stream_fstat(void *obj, struct stat *st)
{
    int fd = stream_of(obj);
    if (stream_mode(fd) == 0)
        return nabla__fail(EBADF);
    memset(st, 0, sizeof *st);
    st->st_mode = (mode_t)stream_mode(fd) | 0600;
    /* No st_blksize: newlib would then buffer stdout fully on a pipe, and a
     * guest that prints and then faults would lose its last lines. stdin
     * gets its 64 KiB buffer in start.c instead. */
    return 0;
}

static short stream_poll(void *obj)
{
    /* Whether stdin has bytes cannot be asked without reading them: it is
     * reported readable, and a read may then wait. */
    return stream_of(obj) == 0 ? POLLIN | POLLRDNORM : POLLOUT | POLLWRNORM;
}

static int stream_close(void *obj)
{
    (void)obj;
    return 0;
}

static const struct nabla_fd_ops stream_ops = {
    .read = stream_read,
    .write = stream_write,
    .fstat = stream_fstat,
    .poll = stream_poll,
    .close = stream_close,
};

void nabla__fd_init(void)
{
    for (int fd = 0; fd <= 2; fd++)
        table[fd] = (struct fd_entry){&stream_ops, (void *)(uintptr_t)(fd + 1)};
}

/* ---- The table ------------------------------------------------------------------- */

static struct fd_entry *entry(int fd)
{
    if (fd < 0 || fd >= NABLA_FD_MAX || table[fd].ops == NULL)
        return NULL;
    return &table[fd];
}

static int install_from(int lowest, const struct nabla_fd_ops *ops, void *obj)
{
    for (int fd = lowest; fd < NABLA_FD_MAX; fd++) {
        if (table[fd].ops == NULL) {
            table[fd] = (struct fd_entry){ops, obj};
            return fd;
        }
    }
    return nabla__fail(EMFILE);
}

int nabla_fd_open(const struct nabla_fd_ops *ops, void *obj)
{
    return install_from(0, ops, obj);
}

void *nabla_fd_object(int fd, const struct nabla_fd_ops *ops, int wrong_kind)
{
    struct fd_entry *e = entry(fd);
    if (e == NULL) {
        nabla__fail(EBADF);
        return NULL;
    }
    if (e->ops != ops) {
        nabla__fail(wrong_kind);
        return NULL;
    }
    return e->obj;
}

void nabla_fd_set_waiter(int (*wait)(uint64_t deadline))
{
    waiter = wait;
}

/* Empties a slot; closes its object if no other slot holds it. */
static int release(int fd)
{
    struct fd_entry e = table[fd];
    table[fd] = (struct fd_entry){NULL, NULL};
    for (int i = 0; i < NABLA_FD_MAX; i++)
        if (table[i].obj == e.obj && table[i].ops == e.ops)
            return 0;
    return e.ops->close(e.obj);
}

/* ---- The calls --------------------------------------------------------------------- */

#define LOOKUP(fd)                   \
    struct fd_entry *e = entry(fd);  \
    if (e == NULL)                   \
        return nabla__fail(EBADF)

int read(int fd, void *buf, size_t len)
{
    LOOKUP(fd);
    if (e->ops->read == NULL)
        return nabla__fail(EINVAL);
    return (int)e->ops->read(e->obj, buf, len > INT_MAX ? INT_MAX : len);
}

int write(int fd, const void *buf, size_t len)
{
    LOOKUP(fd);
    if (e->ops->write == NULL)
        return nabla__fail(EINVAL);
    return (int)e->ops->write(e->obj, buf, len > INT_MAX ? INT_MAX : len);
}

ssize_t pread(int fd, void *buf, size_t len, off_t offset)
{
    LOOKUP(fd);
    if (e->ops->pread == NULL)
        return nabla__fail(ESPIPE);
    if (offset < 0)
        return nabla__fail(EINVAL);
    return e->ops->pread(e->obj, buf, len, offset);
}

ssize_t pwrite(int fd, const void *buf, size_t len, off_t offset)
{
    LOOKUP(fd);
    if (e->ops->pwrite == NULL)
        return nabla__fail(ESPIPE);
    if (offset < 0)
        return nabla__fail(EINVAL);
    return e->ops->pwrite(e->obj, buf, len, offset);
}

off_t lseek(int fd, off_t offset, int whence)
{
    LOOKUP(fd);
    if (e->ops->lseek == NULL)
        return nabla__fail(ESPIPE);
    return e->ops->lseek(e->obj, offset, whence);
}

int fstat(int fd, struct stat *st)
{
    LOOKUP(fd);
    return e->ops->fstat(e->obj, st);
}

int ftruncate(int fd, off_t length)
{
    LOOKUP(fd);
    if (e->ops->ftruncate == NULL)
        return nabla__fail(EINVAL);
    if (length < 0)
        return nabla__fail(EINVAL);
    return e->ops->ftruncate(e->obj, length);
}

int fsync(int fd)
{
    LOOKUP(fd);
    if (e->ops->fsync == NULL)
        return nabla__fail(EINVAL);
    return e->ops->fsync(e->obj);
}

int fdatasync(int fd)
{
    return fsync(fd);
}

int close(int fd)
{
    LOOKUP(fd);
    (void)e;
    return release(fd);
}

int isatty(int fd)
{
    struct fd_entry *e = entry(fd);
    if (e == NULL) {
        nabla__fail(EBADF);
        return 0;
    }
    int stream = e->ops == &stream_ops ? stream_of(e->obj) : -1;
    if (stream < 0 || !(nabla__info->flags & NABLA_BOOT_TTY(stream))) {
        nabla__fail(ENOTTY);
        return 0;
    }
    return 1;
}

int dup(int fd)
{
    LOOKUP(fd);
    return install_from(0, e->ops, e->obj);
}

int dup2(int fd, int target)
{
    LOOKUP(fd);
    if (target < 0 || target >= NABLA_FD_MAX)
        return nabla__fail(EBADF);
    if (target == fd)
        return fd;
    struct fd_entry copy = *e;
    if (table[target].ops != NULL)
        release(target);  /* as on Linux, an error closing it is not reported */
    table[target] = copy;
    return target;
}

int fcntl(int fd, int cmd, ...)
{
    va_list ap;
    va_start(ap, cmd);
    int arg = va_arg(ap, int);
    va_end(ap);
    LOOKUP(fd);
    switch (cmd) {
    case F_DUPFD:
    case F_DUPFD_CLOEXEC:
        if (arg < 0 || arg >= NABLA_FD_MAX)
            return nabla__fail(EINVAL);
        return install_from(arg, e->ops, e->obj);
    case F_GETFD:
        return 0;   /* there is no exec: close-on-exec means nothing */
    case F_SETFD:
        return 0;
    case F_GETFL:
        return e->ops->getfl ? e->ops->getfl(e->obj) : O_RDWR;
    case F_SETFL:
        return e->ops->setfl ? e->ops->setfl(e->obj, arg) : 0;
    default:
        return nabla__fail(EINVAL);
    }
}

int poll(struct pollfd *fds, nfds_t nfds, int timeout_ms)
{
    uint64_t deadline = timeout_ms < 0 ? UINT64_MAX
                                       : nabla_clock_monotonic() + (uint64_t)timeout_ms * 1000000u;
    /* Take in what the network has first: readiness computed without it
     * would go stale (a writable socket that waits for ACKs never sees
     * them if poll keeps returning before reading a frame). */
    if (waiter && waiter(0) != 0)
        return -1;
    for (;;) {
        int count = 0;
        for (nfds_t i = 0; i < nfds; i++) {
            fds[i].revents = 0;
            if (fds[i].fd < 0)
                continue;
            struct fd_entry *e = entry(fds[i].fd);
            short r;
            if (e == NULL)
                r = POLLNVAL;
            else if (e->ops->poll)
                r = e->ops->poll(e->obj);
            else
                r = POLLIN | POLLRDNORM | POLLOUT | POLLWRNORM;
            fds[i].revents = (short)(r & (fds[i].events | POLLERR | POLLHUP | POLLNVAL));
            if (fds[i].revents)
                count++;
        }
        if (count > 0 || timeout_ms == 0 || nabla_clock_monotonic() >= deadline)
            return count;
        if (waiter) {
            if (waiter(deadline) != 0)
                return -1;
        } else {
            /* Nothing can become ready: sleep out the timeout (for ever,
             * as Linux does, if there is none). */
            uint64_t now = nabla_clock_monotonic();
            nabla_sleep_ns(deadline == UINT64_MAX ? 1000000000u : deadline - now);
        }
    }
}
