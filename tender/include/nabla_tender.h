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
#include "nabla_solo5.h"

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

#define NABLA_HOST_MAX_RANGES   16u
#define NABLA_DIAG_SIZE         512u
#define NABLA_IMAGE_PATH_SIZE   256u

/* Block transfers: each pread64/pwrite64 moves exactly one chunk, and the
 * filter allows a chunk of size S (count == S) only at an offset where it
 * ends inside the disk (pos <= capacity - S). The chunk sizes are
 * NABLA_BLOCK_CHUNK_MIN << (NABLA_BLOCK_CHUNK_STEP * k), k < NABLA_BLOCK_CHUNKS:
 * every power of two from 512 B to 512 KiB. docs/security.md, "Disks". */
#define NABLA_BLOCK_CHUNK_MIN   512u
#define NABLA_BLOCK_CHUNK_STEP  1u
#define NABLA_BLOCK_CHUNKS      11u

/*
 * The host state, in two parts.
 *
 * struct nabla_host_config is everything a hypercall or signal handler
 * trusts: descriptors, capacities, guest ranges, the image path. The tender
 * builds it once, copies it in with nabla_host_publish() and makes it
 * read-only with nabla_host_seal() before the filter is loaded. The guest
 * shares the address space but cannot change it afterwards: mprotect is not
 * one of the seven system calls.
 *
 * struct nabla_host_scratch is what handlers write under the filter: the
 * ppoll array and timeout, the diagnostic buffer, counters. The guest can
 * write it too, so a handler never trusts a value it reads back from it;
 * the filter pins addresses inside it.
 */
struct nabla_host_config {
    uint64_t mem_start;
    uint64_t mem_end;
    uint64_t image_base;        /* lowest PT_LOAD address, for diagnostics */
    uint64_t image_end;         /* first page past the image */
    uint64_t guard_start;       /* the guard page below the stack */
    uint64_t timeout_ms;        /* --timeout, for its message */
    uint64_t tender_fs;         /* Solo5 images set FS themselves: the signal
                                   handlers put the tender's back (0: never) */
    uint32_t trace;             /* nonzero: log each hypercall on fd 2 */
    uint32_t core_dump;         /* --core: fault handlers fault again to dump core */
    uint32_t device_count;
    uint32_t writable_count;
    uint32_t readable_count;
    uint32_t pollfd_count;
    struct nabla_host_device devices[NABLA_MAX_DEVICES];
    struct nabla_host_range  writable[NABLA_HOST_MAX_RANGES];
    struct nabla_host_range  readable[NABLA_HOST_MAX_RANGES];
    int32_t  pollfd_fd[NABLA_MAX_DEVICES];      /* the NICs' descriptors */
    uint32_t pollfd_handle[NABLA_MAX_DEVICES];  /* and their handles */
    char image_path[NABLA_IMAGE_PATH_SIZE];     /* for the addr2line hint */
    /* The image's symbol table, mapped read-only (ImageSymbols.swift), for
     * naming the function of a fault; 0 when the image has none. */
    uint64_t symbols;                           /* Elf64_Sym array */
    uint64_t symbol_count;
    uint64_t symbol_names;                      /* its string table */
    uint64_t symbol_names_size;
};

struct nabla_host_scratch {
    struct pollfd   pollfds[NABLA_MAX_DEVICES];
    struct timespec poll_timeout;
    char diag[NABLA_DIAG_SIZE]; /* the only buffer write(2, ...) may send */
    /* Per hypercall (NABLA_HYPERCALL_* order): calls made, bytes moved.
     * Read by the --audit tracer from outside the process when it exits;
     * the guest can change them, and the report says so. */
    uint64_t hypercall_calls[NABLA_HYPERCALL_COUNT];
    uint64_t hypercall_bytes[NABLA_HYPERCALL_COUNT];
};

/* The only buffer read(0, ...) may fill (NABLA_STDIN_CHUNK bytes, in the
 * tender's .bss: no memory until the guest reads): stdinread reads standard
 * input here and copies it to the guest (docs/security.md, "Standard
 * streams"). Scratch: the guest can write it, and nothing trusts it. */
__attribute__((returns_nonnull)) char *nabla_stdin_buffer(void);

/* The sealed configuration (read-only once nabla_host_seal() succeeded). */
__attribute__((returns_nonnull)) const struct nabla_host_config *nabla_config(void);

/* The handlers' writable state. */
__attribute__((returns_nonnull)) struct nabla_host_scratch *nabla_scratch(void);

/* The diagnostic buffer, and the image path (NUL-terminated within
 * NABLA_IMAGE_PATH_SIZE bytes), for the signal handlers. */
static inline char *nabla_diag(void) { return nabla_scratch()->diag; }
static inline const char *nabla_image_path(void) { return nabla_config()->image_path; }

/* Copies `config` into the tender's configuration page. Before the seal. */
void nabla_host_publish(const struct nabla_host_config *config);

/* Makes the configuration page read-only: 0 or -errno. */
int nabla_host_seal(void);

/* Counts one call of hypercall `hypercall` (NABLA_HYPERCALL_*) moving `bytes`. */
static inline void nabla_host_count(uint32_t hypercall, uint64_t bytes) {
    if (hypercall < NABLA_HYPERCALL_COUNT) {
        nabla_scratch()->hypercall_calls[hypercall] += 1;
        nabla_scratch()->hypercall_bytes[hypercall] += bytes;
    }
}

/* The device behind `handle`, or NULL. */
static inline const struct nabla_host_device *nabla_host_device(uint32_t handle) {
    const struct nabla_host_config *c = nabla_config();
    return handle < c->device_count && handle < NABLA_MAX_DEVICES ? &c->devices[handle] : 0;
}

/* Readable (writable) guest range `index`, or NULL past the last one. */
static inline const struct nabla_host_range *nabla_host_readable(uint32_t index) {
    const struct nabla_host_config *c = nabla_config();
    return index < c->readable_count && index < NABLA_HOST_MAX_RANGES ? &c->readable[index] : 0;
}

static inline const struct nabla_host_range *nabla_host_writable(uint32_t index) {
    const struct nabla_host_config *c = nabla_config();
    return index < c->writable_count && index < NABLA_HOST_MAX_RANGES ? &c->writable[index] : 0;
}

/* ppoll(fds, n, timeout, NULL) as a raw system call, so that the arguments
 * the filter pins are exactly the ones passed. Returns the result or -errno. */
long nabla_sys_ppoll(struct pollfd *fds, unsigned long n, struct timespec *timeout);

/* Waits on the NICs: refills the ppoll array from the sealed configuration
 * (whatever the guest wrote into it), sleeps up to `timeout_ns` in ppoll on
 * the scratch array and timespec (the addresses the filter pins) and stores
 * the bitmask of the handles with input in *mask. Returns ppoll's result. */
static inline long nabla_host_poll(uint64_t timeout_ns, uint64_t *mask) {
    const struct nabla_host_config *c = nabla_config();
    struct nabla_host_scratch *s = nabla_scratch();
    uint32_t count = c->pollfd_count < NABLA_MAX_DEVICES ? c->pollfd_count : NABLA_MAX_DEVICES;
    for (uint32_t i = 0; i < count; i++) {
        s->pollfds[i].fd = c->pollfd_fd[i];
        s->pollfds[i].events = POLLIN;
        s->pollfds[i].revents = 0;
    }
    s->poll_timeout.tv_sec = (time_t)(timeout_ns / 1000000000u);
    s->poll_timeout.tv_nsec = (long)(timeout_ns % 1000000000u);
    long n = nabla_sys_ppoll(s->pollfds, count, &s->poll_timeout);
    *mask = 0;
    for (uint32_t i = 0; n > 0 && i < count; i++) {
        if (s->pollfds[i].revents & POLLIN) *mask |= 1ull << (c->pollfd_handle[i] & 63u);
    }
    return n;
}

/* The table of hypercall entry points the guest calls: assembly thunks
 * (tender/hypercall_x86_64.S) that switch to the tender's hypercall stack
 * and call nabla_hypercall_NAME_handler (Hypercalls.swift). */
__attribute__((returns_nonnull)) const struct nabla_hypercalls *nabla_hypercall_thunks(void);

/* Fills `size` bytes from getrandom(2), retrying short reads (it blocks
 * only until the kernel's pool is first seeded): 0 or -errno. */
int nabla_random_bytes(void *buffer, size_t size);

/* prctl(PR_SET_NO_NEW_PRIVS, 1): returns 0 or -errno. */
int nabla_set_no_new_privs(void);

/* memfd_create(name, MFD_CLOEXEC): returns the fd or -errno. */
int nabla_memfd(const char *name);

/* malloc_trim(0) on glibc: gives the heap's free pages back to the kernel,
 * so that what start-up allocated and freed is not kept for the guest's
 * lifetime. Nothing on musl, whose allocator gives them back itself. */
void nabla_release_free_heap(void);

/* fcntl(fd, F_DUPFD_CLOEXEC, min): returns the new fd or -errno. */
int nabla_dup_above(int fd, int min);

/* ioctl(fd, BLKGETSIZE64): stores the size of a block device; 0 or -errno. */
int nabla_block_device_size(int fd, uint64_t *size);

/* Attaches to the existing TAP interface `name`: opens /dev/net/tun
 * non-blocking and close-on-exec and sets IFF_TAP|IFF_NO_PI. With `offload`,
 * also IFF_VNET_HDR with a NABLA_NET_VNET_HEADER-byte header, and
 * TUNSETOFFLOAD with checksum offload and TSO for IPv4 (what the guest can
 * take); without, TUNSETOFFLOAD 0, so that a TAP a previous run left with
 * offloads hands over plain frames again. Returns the fd or -errno; -ENODEV
 * if no interface has that name (none is created). */
int nabla_tap_attach(const char *name, int offload);

/* 1 if interface `name` is up, 0 if down, -errno if it cannot be asked. */
int nabla_interface_is_up(const char *name);

/* The signal handlers as installed: each restores the tender's FS (TLS)
 * base from the sealed configuration when it is set (a Solo5 guest has its
 * own), then calls the Swift handler in Diagnostics.swift. With --core the
 * fault handler, once the Swift one returns, makes the same fault again
 * under the default action, which dumps core. */
void nabla_signal_sigsys(int signal, siginfo_t *info, void *context);
void nabla_signal_fault(int signal, siginfo_t *info, void *context);
void nabla_signal_alarm(int signal, siginfo_t *info, void *context);

/* The tender's FS base (arch_prctl(ARCH_GET_FS)), or 0. */
uint64_t nabla_current_fs(void);

/* Solo5 spt: an epoll set and a non-blocking CLOCK_MONOTONIC timerfd in it,
 * registered with epoll data SOLO5_SPT_TIMERFD_DATA. 0 or -errno. */
int nabla_solo5_wait_set(int *epollfd, int *timerfd);

/* Adds `fd` (EPOLLIN) to `epollfd` with `data`. 0 or -errno. */
int nabla_epoll_add(int epollfd, int fd, uint64_t data);

/* The MTU of interface `name`, or -errno. */
int nabla_interface_mtu(const char *name);

/* The interface behind TAP descriptor `fd` (TUNGETIFF) into name[16];
 * 0, -EINVAL if it is not a TAP, or -errno. */
int nabla_tap_name(int fd, char name[16]);

/* pipe2(fds, O_CLOEXEC): 0 or -errno. */
int nabla_pipe_cloexec(int fds[2]);

/* close_range(first, last, 0): returns 0 or -errno. */
int nabla_close_range(unsigned first, unsigned last);

/* exit_group(status); never returns. */
__attribute__((noreturn)) void nabla_sys_exit_group(int status);

/* Loads `filter` with seccomp(SECCOMP_SET_MODE_FILTER, TSYNC), switches to
 * the guest stack, calls entry(info) and passes its return value to
 * exit_group. Returns only if the filter could not be loaded: -errno. */
long nabla_enter_guest(const struct sock_fprog *filter, uint64_t entry,
                       uint64_t info, uint64_t stack_top);

/* The program counter saved in a signal handler's ucontext. */
uint64_t nabla_ucontext_pc(const void *ucontext);

/* 1 if `signal` was blocked in the context the handler interrupted (the
 * mask the kernel saved in its ucontext), else 0. */
int nabla_ucontext_blocks(const void *ucontext, int signal);

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

/* glibc's strerror text for errno `code` (error_texts.c), or NULL if it has
 * none: the same in the tender on musl as in the tools on glibc. */
const char *nabla_error_text(int code);

#endif /* NABLA_TENDER_H */
