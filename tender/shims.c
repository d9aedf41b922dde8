/* Thin shims for the calls Swift cannot make itself: see nabla_tender.h. */
#define _GNU_SOURCE
#include "nabla_tender.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <net/if.h>
#include <linux/if_tun.h>
#include <sys/socket.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

static struct nabla_host host;

struct nabla_host *nabla_host(void) { return &host; }

int nabla_set_no_new_privs(void) {
    return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0 ? 0 : -errno;
}

int nabla_memfd(const char *name) {
    int fd = memfd_create(name, MFD_CLOEXEC);
    return fd >= 0 ? fd : -errno;
}

int nabla_dup_above(int fd, int min) {
    int r = fcntl(fd, F_DUPFD_CLOEXEC, min);
    return r >= 0 ? r : -errno;
}

int nabla_block_device_size(int fd, uint64_t *size) {
    return ioctl(fd, BLKGETSIZE64, size) == 0 ? 0 : -errno;
}

int nabla_tap_attach(const char *name) {
    if (strlen(name) >= IFNAMSIZ) return -ENAMETOOLONG;
    /* TUNSETIFF would create a missing interface: refuse instead. */
    if (if_nametoindex(name) == 0) return -ENODEV;
    int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) return -errno;
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
    strncpy(ifr.ifr_name, name, IFNAMSIZ - 1);
    if (ioctl(fd, TUNSETIFF, &ifr) != 0) {
        int error = errno;
        close(fd);
        return -error;
    }
    return fd;
}

int nabla_interface_is_up(const char *name) {
    if (strlen(name) >= IFNAMSIZ) return -ENAMETOOLONG;
    int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (sock < 0) return -errno;
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    strncpy(ifr.ifr_name, name, IFNAMSIZ - 1);
    int r = ioctl(sock, SIOCGIFFLAGS, &ifr);
    int error = errno;
    close(sock);
    if (r != 0) return -error;
    return (ifr.ifr_flags & IFF_UP) ? 1 : 0;
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
