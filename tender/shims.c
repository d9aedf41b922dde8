/* Thin shims for the calls Swift cannot make itself: see nabla_tender.h. */
#define _GNU_SOURCE
#include "nabla_tender.h"

#include <errno.h>
#include <fcntl.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <string.h>
#include <net/if.h>
#include <linux/if_tun.h>
#include <sys/socket.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <ucontext.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <asm/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifdef __GLIBC__
#define NABLA_PTRACE_REQUEST(r) ((enum __ptrace_request)(r))
#else
#define NABLA_PTRACE_REQUEST(r) (r) /* musl: ptrace(int, ...) */
#endif

/* The sealed configuration fills whole pages of its own, so that sealing
 * it protects nothing else and leaves nothing else writable. */
#define NABLA_CONFIG_PAGES ((sizeof(struct nabla_host_config) + 4095u) / 4096u)
static union {
    struct nabla_host_config config;
    unsigned char pages[NABLA_CONFIG_PAGES * 4096u];
} sealed __attribute__((aligned(4096)));

static struct nabla_host_scratch scratch;

const struct nabla_host_config *nabla_config(void) { return &sealed.config; }

struct nabla_host_scratch *nabla_scratch(void) { return &scratch; }

static char stdin_buffer[NABLA_STDIN_CHUNK];
char *nabla_stdin_buffer(void) { return stdin_buffer; }

int nabla_random_bytes(void *buffer, size_t size) {
    unsigned char *p = buffer;
    while (size > 0) {
        ssize_t n = getrandom(p, size, 0);
        if (n < 0) {
            if (errno == EINTR) continue;
            return -errno;
        }
        p += n;
        size -= (size_t)n;
    }
    return 0;
}

void nabla_host_publish(const struct nabla_host_config *config) {
    memcpy(&sealed.config, config, sizeof *config);
}

int nabla_host_seal(void) {
    return mprotect(&sealed, sizeof sealed, PROT_READ) == 0 ? 0 : -errno;
}

/* The entry points in tender/hypercall_x86_64.S. */
int64_t nabla_hypercall_walltime(uint32_t clock);
int64_t nabla_hypercall_puts(const char *buf, uint64_t len);
int64_t nabla_hypercall_poll(uint64_t timeout_ns, uint64_t *ready);
int64_t nabla_hypercall_blkread(nabla_handle_t dev, uint64_t offset, void *buf, uint64_t len);
int64_t nabla_hypercall_blkwrite(nabla_handle_t dev, uint64_t offset, const void *buf, uint64_t len);
int64_t nabla_hypercall_netread(nabla_handle_t dev, void *buf, uint64_t size);
int64_t nabla_hypercall_netwrite(nabla_handle_t dev, const void *buf, uint64_t len);
int64_t nabla_hypercall_stdinread(void *buf, uint64_t len);
int64_t nabla_hypercall_stderrwrite(const char *buf, uint64_t len);

static const struct nabla_hypercalls thunks = {
    .walltime = nabla_hypercall_walltime,
    .puts = nabla_hypercall_puts,
    .poll = nabla_hypercall_poll,
    .blkread = nabla_hypercall_blkread,
    .blkwrite = nabla_hypercall_blkwrite,
    .netread = nabla_hypercall_netread,
    .netwrite = nabla_hypercall_netwrite,
    .stdinread = nabla_hypercall_stdinread,
    .stderrwrite = nabla_hypercall_stderrwrite,
};

const struct nabla_hypercalls *nabla_hypercall_thunks(void) { return &thunks; }

uint64_t nabla_ucontext_pc(const void *ucontext) {
    return ucontext ? (uint64_t)((const ucontext_t *)ucontext)->uc_mcontext.gregs[REG_RIP] : 0;
}

/* The first 64 bits of the saved mask are the kernel's sigset (signals 1 to
 * 64), in glibc's and musl's ucontext_t alike; read as bits, with no libc
 * call, since this runs in a signal handler under the filter. */
int nabla_ucontext_blocks(const void *ucontext, int signal) {
    if (!ucontext || signal < 1 || signal > 64) return 0;
    uint64_t bits;
    __builtin_memcpy(&bits, &((const ucontext_t *)ucontext)->uc_sigmask, sizeof bits);
    return (int)((bits >> (signal - 1)) & 1);
}

int nabla_set_no_new_privs(void) {
    return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0 ? 0 : -errno;
}

int nabla_memfd(const char *name) {
    int fd = memfd_create(name, MFD_CLOEXEC);
    return fd >= 0 ? fd : -errno;
}

void nabla_release_free_heap(void) {
#ifdef __GLIBC__
    malloc_trim(0);
#endif
}

int nabla_dup_above(int fd, int min) {
    int r = fcntl(fd, F_DUPFD_CLOEXEC, min);
    return r >= 0 ? r : -errno;
}

int nabla_block_device_size(int fd, uint64_t *size) {
    return ioctl(fd, BLKGETSIZE64, size) == 0 ? 0 : -errno;
}

int nabla_tap_attach(const char *name, int offload) {
    if (strlen(name) >= IFNAMSIZ) return -ENAMETOOLONG;
    /* TUNSETIFF would create a missing interface: refuse instead. */
    if (if_nametoindex(name) == 0) return -ENODEV;
    int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) return -errno;
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI | (offload ? IFF_VNET_HDR : 0);
    strncpy(ifr.ifr_name, name, IFNAMSIZ - 1);
    int header = NABLA_NET_VNET_HEADER;
    unsigned long features = offload ? TUN_F_CSUM | TUN_F_TSO4 : 0;
    if (ioctl(fd, TUNSETIFF, &ifr) != 0 ||
        (offload && ioctl(fd, TUNSETVNETHDRSZ, &header) != 0) ||
        ioctl(fd, TUNSETOFFLOAD, features) != 0) {
        int error = errno;
        close(fd);
        return -error;
    }
    return fd;
}

/* Asks `request` (SIOCGIF*) about interface `name` into *ifr: 0 or -errno. */
static int interface_ioctl(const char *name, unsigned long request, struct ifreq *ifr) {
    if (strlen(name) >= IFNAMSIZ) return -ENAMETOOLONG;
    int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (sock < 0) return -errno;
    memset(ifr, 0, sizeof *ifr);
    strncpy(ifr->ifr_name, name, IFNAMSIZ - 1);
    int r = ioctl(sock, request, ifr);
    int error = errno;
    close(sock);
    return r == 0 ? 0 : -error;
}

int nabla_interface_is_up(const char *name) {
    struct ifreq ifr;
    int r = interface_ioctl(name, SIOCGIFFLAGS, &ifr);
    if (r != 0) return r;
    return (ifr.ifr_flags & IFF_UP) ? 1 : 0;
}

int nabla_spawn_traced(const char *path, char *const argv[], char *const envp[], int keep_fd) {
    pid_t pid = fork();
    if (pid < 0) return -errno;
    if (pid == 0) {
        if (keep_fd >= 0) fcntl(keep_fd, F_SETFD, 0);
        if (ptrace(PTRACE_TRACEME, 0, 0, 0) != 0) _exit(126);
        execve(path, argv, envp);
        _exit(127);
    }
    return pid;
}

long nabla_ptrace(int request, int pid, unsigned long addr, unsigned long data) {
    errno = 0;
    long r = ptrace(NABLA_PTRACE_REQUEST(request), pid, (void *)addr, (void *)data);
    if (r == -1 && errno != 0) return -errno;
    return r;
}

/* The kernel's struct ptrace_syscall_info, declared here to keep
 * <linux/ptrace.h> and <sys/ptrace.h> apart. */
struct syscall_info {
    uint8_t op;
    uint8_t pad[3];
    uint32_t arch;
    uint64_t instruction_pointer;
    uint64_t stack_pointer;
    union {
        struct { uint64_t nr; uint64_t args[6]; } entry;
        struct { int64_t rval; uint8_t is_error; } exit;
        struct { uint64_t nr; uint64_t args[6]; uint32_t ret_data; } seccomp;
    };
};

int nabla_ptrace_syscall_stop(int pid, struct nabla_syscall_stop *stop) {
    struct syscall_info info;
    memset(&info, 0, sizeof info);
    memset(stop, 0, sizeof *stop);
    if (ptrace(NABLA_PTRACE_REQUEST(0x420e) /* PTRACE_GET_SYSCALL_INFO */, pid, (void *)sizeof info, &info) < 0)
        return -errno;
    stop->kind = info.op;
    stop->arch = info.arch;
    stop->instruction_pointer = info.instruction_pointer;
    if (info.op == 1 || info.op == 3) {
        stop->nr = info.op == 1 ? info.entry.nr : info.seccomp.nr;
        for (int i = 0; i < 6; i++) stop->args[i] = info.op == 1 ? info.entry.args[i] : info.seccomp.args[i];
    } else if (info.op == 2) {
        stop->rval = info.exit.rval;
    }
    return 0;
}

int nabla_read_process_memory(int pid, uint64_t address, void *buffer, uint64_t size) {
    struct iovec local = { buffer, size }, remote = { (void *)address, size };
    ssize_t n = process_vm_readv(pid, &local, 1, &remote, 1, 0);
    if (n < 0) return -errno;
    return (uint64_t)n == size ? 0 : -EIO;
}

int nabla_pipe_cloexec(int fds[2]) {
    return pipe2(fds, O_CLOEXEC) == 0 ? 0 : -errno;
}

int nabla_close_range(unsigned first, unsigned last) {
    return syscall(SYS_close_range, first, last, 0) == 0 ? 0 : -errno;
}

long nabla_sys_ppoll(struct pollfd *fds, unsigned long n, struct timespec *timeout) {
    long r;
    register long r10 __asm__("r10") = 0; /* no signal mask */
    register long r8 __asm__("r8") = 8;
    __asm__ volatile("syscall"
                     : "=a"(r)
                     : "0"((long)SYS_ppoll), "D"(fds), "S"(n), "d"(timeout), "r"(r10), "r"(r8)
                     : "rcx", "r11", "memory");
    return r;
}

void nabla_sys_exit_group(int status) {
    for (;;) {
        __asm__ volatile("syscall" : : "a"((long)SYS_exit_group), "D"((long)status) : "rcx", "r11", "memory");
    }
}

/* ---- Signal handlers: restore the tender's FS first ---------------------
 *
 * A Solo5 guest points FS at its own TLS (arch_prctl(ARCH_SET_FS), which
 * its policy allows). The Swift handlers and glibc's write() read FS-based
 * data (stack protector, errno), so each handler first puts the tender's FS
 * back, with the same allowed call. Nothing here may read FS before that. */
#if defined(__has_attribute) && __has_attribute(no_stack_protector)
#define NABLA_NO_SSP __attribute__((no_stack_protector))
#else
#define NABLA_NO_SSP
#endif

void nabla_on_forbidden_syscall(int signal, siginfo_t *info, void *context);
void nabla_on_guest_fault(int signal, siginfo_t *info, void *context);
void nabla_on_timeout(int signal, siginfo_t *info, void *context);

static NABLA_NO_SSP void restore_tender_fs(void) {
    uint64_t fs = sealed.config.tender_fs;
    if (fs == 0) return;
    long r;
    __asm__ volatile("syscall"
                     : "=a"(r)
                     : "0"((long)SYS_arch_prctl), "D"((long)ARCH_SET_FS), "S"(fs)
                     : "rcx", "r11", "memory");
    (void)r;
}

NABLA_NO_SSP void nabla_signal_sigsys(int signal, siginfo_t *info, void *context) {
    restore_tender_fs();
    nabla_on_forbidden_syscall(signal, info, context);
}

/* --core: makes the same fault again, here in the handler. The handler was
 * installed with SA_RESETHAND, so the default action is back in place and
 * the kernel dumps core for the same signal, the guest's registers in the
 * signal frame below this one (gdb unwinds through it). Returning to the
 * faulting instruction instead would need rt_sigreturn in the filter, and
 * with it a guest could set its own signal mask. A blocked signal does not
 * matter: the kernel unblocks a synchronous fault's signal and applies the
 * default action. */
static NABLA_NO_SSP __attribute__((noreturn)) void fault_again(int signal) {
    static char misaligned[8] __attribute__((aligned(8)));
    switch (signal) {
    case SIGSEGV: /* a read of address 0: nothing is ever mapped there */
        __asm__ volatile("movb (%0), %%al" : : "r"((const char *)0) : "rax", "memory");
        break;
    case SIGBUS:  /* a misaligned read with the alignment check flag (AC) set */
        __asm__ volatile("pushfq\n\torl $0x40000, (%%rsp)\n\tpopfq\n\tmovl (%0), %%eax"
                         : : "r"(misaligned + 1) : "rax", "memory", "cc");
        break;
    case SIGILL:
        __asm__ volatile("ud2");
        break;
    case SIGFPE:  /* an integer division by zero */
        __asm__ volatile("xorl %%ecx, %%ecx\n\tdivl %%ecx" : : : "rax", "rcx", "rdx", "cc");
        break;
    case SIGTRAP:
        __asm__ volatile("int3");
        break;
    }
    nabla_sys_exit_group(128 + signal);
}

NABLA_NO_SSP void nabla_signal_fault(int signal, siginfo_t *info, void *context) {
    restore_tender_fs();
    nabla_on_guest_fault(signal, info, context); /* returns only with --core */
    fault_again(signal);
}

NABLA_NO_SSP void nabla_signal_alarm(int signal, siginfo_t *info, void *context) {
    restore_tender_fs();
    nabla_on_timeout(signal, info, context);
}

uint64_t nabla_current_fs(void) {
    uint64_t fs = 0;
    return syscall(SYS_arch_prctl, ARCH_GET_FS, &fs) == 0 ? fs : 0;
}

int nabla_solo5_wait_set(int *epollfd, int *timerfd) {
    int ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0) return -errno;
    int t = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (t < 0) {
        int error = errno;
        close(ep);
        return -error;
    }
    int r = nabla_epoll_add(ep, t, SOLO5_SPT_TIMERFD_DATA);
    if (r != 0) {
        close(ep);
        close(t);
        return r;
    }
    *epollfd = ep;
    *timerfd = t;
    return 0;
}

int nabla_epoll_add(int epollfd, int fd, uint64_t data) {
    struct epoll_event event;
    memset(&event, 0, sizeof event);
    event.events = EPOLLIN;
    event.data.u64 = data;
    return epoll_ctl(epollfd, EPOLL_CTL_ADD, fd, &event) == 0 ? 0 : -errno;
}

int nabla_interface_mtu(const char *name) {
    struct ifreq ifr;
    int r = interface_ioctl(name, SIOCGIFMTU, &ifr);
    return r == 0 ? ifr.ifr_mtu : r;
}

int nabla_tap_name(int fd, char name[16]) {
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    if (ioctl(fd, TUNGETIFF, &ifr) != 0) return errno == EBADF ? -EBADF : -EINVAL;
    if ((ifr.ifr_flags & IFF_TAP) == 0) return -EINVAL;
    memcpy(name, ifr.ifr_name, 16);
    name[15] = 0;
    return 0;
}
