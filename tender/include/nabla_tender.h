/*
 * nabla_tender.h: the tender's own C layer (not part of the guest ABI).
 *
 * Swift cannot make variadic calls (prctl, syscall), switch stacks, or read
 * the unions inside siginfo_t; these few functions do that and nothing more.
 * The state the hypercall handlers read after the seccomp filter is loaded
 * lives here too, in one statically allocated struct, so that no handler
 * touches memory that would need allocating or lazy initialisation.
 */
#ifndef NABLA_TENDER_H
#define NABLA_TENDER_H

#include <stdint.h>
#include <signal.h>
#include <poll.h>
#include <time.h>
#include <linux/filter.h>
#include "nabla_abi.h"

/* One attached device as the tender sees it: its host fd and limits. */
struct nabla_host_device {
    int32_t  fd;
    uint32_t kind;              /* NABLA_DEVICE_* */
    uint32_t flags;             /* NABLA_DEVICE_* flags */
    uint32_t reserved;
    uint64_t capacity_bytes;    /* block: size of the disk in bytes */
    uint64_t frame_max;         /* net: largest frame, header included */
};

/* A range of guest memory the tender may store into on the guest's behalf. */
struct nabla_host_range {
    uint64_t start;
    uint64_t end;
};

#define NABLA_HOST_MAX_RANGES 16u
#define NABLA_DIAG_SIZE       512u

/* Everything a hypercall handler or the signal handler reads. Filled in
 * before the filter is loaded; the filter pins syscall arguments to the
 * addresses of pollfds, poll_timeout and diag. */
struct nabla_host {
    uint64_t mem_start;
    uint64_t mem_end;
    uint32_t trace;             /* nonzero: log each hypercall on fd 2 */
    int32_t  console_fd;        /* 1 */
    uint32_t device_count;
    uint32_t writable_count;
    uint32_t readable_count;
    uint32_t reserved3;
    uint64_t image_base;        /* lowest PT_LOAD address, for diagnostics */
    uint64_t image_end;         /* first page past the image */
    uint64_t guard_start;       /* the guard page below the stack */
    uint64_t timeout_ms;        /* --timeout, for its message */
    uint32_t core_dump;         /* --core: fault handlers return to dump core */
    uint32_t reserved2;
    struct nabla_host_device devices[NABLA_MAX_DEVICES];
    struct nabla_host_range  writable[NABLA_HOST_MAX_RANGES];
    struct nabla_host_range  readable[NABLA_HOST_MAX_RANGES];
    struct pollfd   pollfds[NABLA_MAX_DEVICES];
    uint32_t        pollfd_count;
    uint32_t        pollfd_handle[NABLA_MAX_DEVICES];
    struct timespec poll_timeout;
    char diag[NABLA_DIAG_SIZE]; /* the only buffer write(2, ...) may send */
    /* Per hypercall (in table order): calls made, bytes moved. Read by the
     * --audit tracer from outside the process when it exits. */
    uint64_t hypercall_calls[7];
    uint64_t hypercall_bytes[7];
    char image_path[256];       /* for the fault message's addr2line hint */
};


/* The tender's single instance. */
struct nabla_host *nabla_host(void);

/* Counts one call of hypercall `hypercall` (table index) moving `bytes`. */
static inline void nabla_host_count(uint32_t hypercall, uint64_t bytes) {
    if (hypercall < 7) {
        nabla_host()->hypercall_calls[hypercall] += 1;
        nabla_host()->hypercall_bytes[hypercall] += bytes;
    }
}

static inline struct nabla_host_device *nabla_host_device(uint32_t handle) {
    struct nabla_host *h = nabla_host();
    return handle < h->device_count ? &h->devices[handle] : 0;
}

static inline struct nabla_host_range *nabla_host_writable(uint32_t index) {
    return index < NABLA_HOST_MAX_RANGES ? &nabla_host()->writable[index] : 0;
}

static inline struct nabla_host_range *nabla_host_readable(uint32_t index) {
    return index < NABLA_HOST_MAX_RANGES ? &nabla_host()->readable[index] : 0;
}

static inline struct pollfd *nabla_host_pollfds(void) {
    return nabla_host()->pollfds;
}

static inline uint32_t nabla_host_pollfd_handle(uint32_t index) {
    return index < NABLA_MAX_DEVICES ? nabla_host()->pollfd_handle[index] : 0;
}

static inline void nabla_host_set_pollfd(uint32_t index, int fd, uint32_t handle) {
    if (index >= NABLA_MAX_DEVICES) return;
    nabla_host()->pollfds[index].fd = fd;
    nabla_host()->pollfds[index].events = POLLIN;
    nabla_host()->pollfds[index].revents = 0;
    nabla_host()->pollfd_handle[index] = handle;
}

static inline const char *nabla_host_image_path(void) {
    return nabla_host()->image_path;
}

static inline char *nabla_host_diag(void) {
    return nabla_host()->diag;
}

/* prctl(PR_SET_NO_NEW_PRIVS, 1): returns 0 or -errno. */
int nabla_set_no_new_privs(void);

/* memfd_create(name, MFD_CLOEXEC): returns the fd or -errno. */
int nabla_memfd(const char *name);

/* fcntl(fd, F_DUPFD_CLOEXEC, min): returns the new fd or -errno. */
int nabla_dup_above(int fd, int min);

/* ioctl(fd, BLKGETSIZE64): stores the size of a block device; 0 or -errno. */
int nabla_block_device_size(int fd, uint64_t *size);

/* Attaches to the existing TAP interface `name`: opens /dev/net/tun
 * non-blocking and close-on-exec and sets IFF_TAP|IFF_NO_PI. Returns the fd
 * or -errno; -ENODEV if no interface has that name (none is created). */
int nabla_tap_attach(const char *name);

/* 1 if interface `name` is up, 0 if down, -errno if it cannot be asked. */
int nabla_interface_is_up(const char *name);

/* pipe2(fds, O_CLOEXEC): 0 or -errno. */
int nabla_pipe_cloexec(int fds[2]);

/* close_range(first, last, 0): returns 0 or -errno. */
int nabla_close_range(unsigned first, unsigned last);

/* ppoll(fds, n, timeout, NULL) as a raw system call, so that the arguments
 * the filter pins are exactly the ones passed. Returns the result or -errno. */
long nabla_sys_ppoll(struct pollfd *fds, unsigned long n, struct timespec *timeout);

/* exit_group(status); never returns. */
__attribute__((noreturn)) void nabla_sys_exit_group(int status);

/* Loads `filter` with seccomp(SECCOMP_SET_MODE_FILTER, TSYNC), switches to
 * the guest stack, calls entry(info) and passes its return value to
 * exit_group. Returns only if the filter could not be loaded: -errno. */
long nabla_enter_guest(const struct sock_fprog *filter, uint64_t entry,
                       uint64_t info, uint64_t stack_top);

/* The program counter saved in a signal handler's ucontext. */
uint64_t nabla_ucontext_pc(const void *ucontext);

/* siginfo_t fields that Swift cannot reach through the unions. */
static inline int nabla_siginfo_syscall(const siginfo_t *si) { return si->si_syscall; }
static inline unsigned nabla_siginfo_arch(const siginfo_t *si) { return si->si_arch; }
static inline void *nabla_siginfo_addr(const siginfo_t *si) { return si->si_addr; }

/* ---- The --audit tracer (runs in a separate, unfiltered process) ---- */

/* A ptrace stop at a system call, from PTRACE_GET_SYSCALL_INFO. */
struct nabla_syscall_stop {
    uint32_t kind;      /* 1 entry, 2 exit, 3 seccomp, 0 other */
    uint32_t arch;      /* AUDIT_ARCH_* */
    uint64_t nr;
    uint64_t args[6];
    int64_t  rval;      /* exit: the result (or -errno) */
    uint64_t instruction_pointer;
};

/* fork; the child calls ptrace(PTRACE_TRACEME) and execve(path, argv,
 * envp), so it stops at the exec. `keep_fd` (if >= 0) loses close-on-exec
 * in the child. Returns the child's pid or -errno. */
int nabla_spawn_traced(const char *path, char *const argv[], char *const envp[], int keep_fd);

/* ptrace(request, pid, addr, data): returns the result or -errno. */
long nabla_ptrace(int request, int pid, unsigned long addr, unsigned long data);

/* Fills *stop for a syscall stop of `pid`; 0 or -errno. */
int nabla_ptrace_syscall_stop(int pid, struct nabla_syscall_stop *stop);

/* Reads `size` bytes at `address` in process `pid`; 0 or -errno. */
int nabla_read_process_memory(int pid, uint64_t address, void *buffer, uint64_t size);

/* The name of x86_64 system call `nr`, or NULL if it has none in the table. */
const char *nabla_syscall_name(long nr);

#endif /* NABLA_TENDER_H */
