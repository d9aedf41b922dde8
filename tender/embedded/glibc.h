/*
 * glibc.h: the C library headers the Nabla sources use (musl's, in the
 * Embedded Swift build of nabla-run: see module.modulemap), as one module,
 * and the two variadic calls as fixed-argument functions Swift can call.
 */
#ifndef NABLA_EMBEDDED_GLIBC_H
#define NABLA_EMBEDDED_GLIBC_H
#ifndef _GNU_SOURCE
#define _GNU_SOURCE     /* environ, MAP_FIXED_NOREPLACE, as the full build has them */
#endif

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/wait.h>

static inline int nabla_glibc_open(const char *path, int flags, mode_t mode)
{
    return open(path, flags, mode);
}

static inline int nabla_glibc_fcntl(int fd, int command, int value)
{
    return fcntl(fd, command, value);
}

/* The process's argc and argv, kept by main (runtime.c): Embedded Swift has
 * no CommandLine. */
extern int nabla_glibc_argc;
extern char **nabla_glibc_argv;

#endif
