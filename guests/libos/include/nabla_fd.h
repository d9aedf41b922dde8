/*
 * nabla_fd.h: the library OS's one descriptor table, for the layers that
 * add a kind of descriptor (files in guests/libos/files.c, sockets in
 * guests/net/sockets.c). A kind registers its operations; read, write,
 * close, poll, lseek, fstat, fcntl, dup and the rest then work on any
 * descriptor, whatever its kind. The library OS knows nothing of what an
 * object is: it calls the kind's operations with it.
 *
 * An operation returns its result, or -1 with errno set. An operation left
 * NULL fails with the errno Linux gives for that kind (noted per field).
 */
#ifndef NABLA_FD_H
#define NABLA_FD_H

#include <sys/stat.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The size of the table: descriptors are 0 to NABLA_FD_MAX - 1. */
#define NABLA_FD_MAX 1024

struct nabla_fd_ops {
    ssize_t (*read)(void *obj, void *buf, size_t len);                   /* NULL: EINVAL */
    ssize_t (*write)(void *obj, const void *buf, size_t len);            /* NULL: EINVAL */
    ssize_t (*pread)(void *obj, void *buf, size_t len, off_t offset);    /* NULL: ESPIPE */
    ssize_t (*pwrite)(void *obj, const void *buf, size_t len, off_t offset); /* NULL: ESPIPE */
    off_t (*lseek)(void *obj, off_t offset, int whence);                 /* NULL: ESPIPE */
    int (*fstat)(void *obj, struct stat *st);                            /* required */
    int (*ftruncate)(void *obj, off_t length);                           /* NULL: EINVAL */
    int (*fsync)(void *obj);                                             /* NULL: EINVAL */
    /* The poll events (POLLIN, POLLOUT, ...) ready now. NULL: always
     * readable and writable, as a regular file is. */
    short (*poll)(void *obj);
    /* fcntl's F_GETFL and F_SETFL (O_NONBLOCK, O_APPEND). NULL: O_RDWR, and
     * F_SETFL is ignored. */
    int (*getfl)(void *obj);
    int (*setfl)(void *obj, int flags);
    /* Called once, when the last descriptor of `obj` is closed. */
    int (*close)(void *obj);
};

/* Installs `obj` of kind `ops` at the lowest free descriptor and returns
 * it, or -1 with errno EMFILE. */
int nabla_fd_open(const struct nabla_fd_ops *ops, void *obj);

/* The object behind `fd` if it is of kind `ops`; else NULL with errno
 * EBADF (no such descriptor) or `wrong_kind` (another kind's: ENOTSOCK for
 * the socket calls, for example). */
void *nabla_fd_object(int fd, const struct nabla_fd_ops *ops, int wrong_kind);

/* The network loop poll runs while nothing is ready: it takes in what has
 * arrived and waits at most until `deadline` (monotonic nanoseconds; 0:
 * do not wait). Returns 0, or -1 with errno set. The socket layer sets it
 * when it creates its first socket; without one, poll sleeps. */
void nabla_fd_set_waiter(int (*wait)(uint64_t deadline));

#ifdef __cplusplus
}
#endif
#endif
