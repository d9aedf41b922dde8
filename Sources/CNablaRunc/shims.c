/* shims.c: see include/nabla_runc.h. */
#define _GNU_SOURCE
#include "nabla_runc.h"

#include <errno.h>
#include <sched.h>
#include <spawn.h>
#include <stdlib.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <linux/openat2.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

int nrc_setns(int fd, int nstype)
{
    return setns(fd, nstype);
}

int nrc_unshare(int flags)
{
    return unshare(flags);
}

int nrc_open_path(const char *path, int directory)
{
    return open(path, O_PATH | O_CLOEXEC | (directory ? O_DIRECTORY : 0));
}

int nrc_open_pty(char *name, unsigned long size)
{
    int master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (master < 0)
        return -1;
    if (grantpt(master) < 0 || unlockpt(master) < 0 || ptsname_r(master, name, size) != 0) {
        int saved = errno;
        close(master);
        errno = saved;
        return -1;
    }
    return master;
}

int nrc_spawn_setsid_flag(void)
{
    return POSIX_SPAWN_SETSID;
}

int nrc_pipe_cloexec(int fds[2])
{
    return pipe2(fds, O_CLOEXEC);
}

int nrc_cloexec_from(unsigned first)
{
    return close_range(first, ~0u, CLOSE_RANGE_CLOEXEC);
}

int nrc_close_from(unsigned first)
{
    return close_range(first, ~0u, 0);
}

int nrc_open_in_root(int dirfd, const char *path)
{
    struct open_how how;
    memset(&how, 0, sizeof how);
    how.flags = O_PATH | O_CLOEXEC;
    how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
    return (int)syscall(SYS_openat2, dirfd, path, &how, sizeof how);
}

int nrc_memfd(const char *name)
{
    return memfd_create(name, MFD_CLOEXEC);
}

int nrc_execveat(int fd, char *const argv[], char *const envp[])
{
    return (int)syscall(SYS_execveat, fd, "", argv, envp, AT_EMPTY_PATH);
}

int nrc_send_fd(int sock, int fd, const char *name)
{
    char control[CMSG_SPACE(sizeof(int))];
    memset(control, 0, sizeof control);
    struct iovec iov = { .iov_base = (void *)name, .iov_len = strlen(name) };
    struct msghdr msg = {
        .msg_iov = &iov, .msg_iovlen = 1,
        .msg_control = control, .msg_controllen = sizeof control,
    };
    struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);
    cmsg->cmsg_level = SOL_SOCKET;
    cmsg->cmsg_type = SCM_RIGHTS;
    cmsg->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
    ssize_t sent;
    do {
        sent = sendmsg(sock, &msg, 0);
    } while (sent < 0 && errno == EINTR);
    return sent < 0 ? -1 : 0;
}

int nrc_set_controlling_terminal(int fd)
{
    return ioctl(fd, TIOCSCTTY, 0);
}

int nrc_set_no_new_privs(void)
{
    return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
}

int nrc_set_child_subreaper(int on)
{
    return prctl(PR_SET_CHILD_SUBREAPER, on, 0, 0, 0);
}

int nrc_drop_bounding(unsigned long long bounding)
{
    for (int cap = 0; cap <= 63; cap++) {
        if (bounding & (1ull << cap))
            continue;
        if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL)
            return -1;
    }
    return 0;
}

int nrc_limit_capabilities(unsigned long long bounding, unsigned long long effective,
                           unsigned long long permitted, unsigned long long inheritable)
{
    if (nrc_drop_bounding(bounding) < 0)
        return -1;
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
        return -1;
    struct __user_cap_header_struct header = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
    struct __user_cap_data_struct data[2];
    data[0].effective = (unsigned)effective;
    data[1].effective = (unsigned)(effective >> 32);
    data[0].permitted = (unsigned)permitted;
    data[1].permitted = (unsigned)(permitted >> 32);
    data[0].inheritable = (unsigned)inheritable;
    data[1].inheritable = (unsigned)(inheritable >> 32);
    return (int)syscall(SYS_capset, &header, data);
}

/* A socket for interface ioctls, and `request` cleared and naming
 * interface `name`; -1 (errno set) if there is no socket. */
static int interface_socket(const char *name, struct ifreq *request)
{
    memset(request, 0, sizeof *request);
    strncpy(request->ifr_name, name, IFNAMSIZ - 1);
    return socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
}

int nrc_interface_mtu(const char *name)
{
    struct ifreq request;
    int fd = interface_socket(name, &request);
    if (fd < 0)
        return -1;
    int result = ioctl(fd, SIOCGIFMTU, &request);
    close(fd);
    return result < 0 ? -1 : request.ifr_mtu;
}

/* Attaches to TAP `name`, creating it if missing; with `exclusive`, an
 * existing one is an error (EEXIST), with no window between test and make. */
static int tap_attach(const char *name, int exclusive)
{
    int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return -1;
    struct ifreq request;
    memset(&request, 0, sizeof request);
    strncpy(request.ifr_name, name, IFNAMSIZ - 1);
    request.ifr_flags = IFF_TAP | IFF_NO_PI | (exclusive ? IFF_TUN_EXCL : 0);
    if (ioctl(fd, TUNSETIFF, &request) < 0) {
        int saved = errno == EBUSY && exclusive ? EEXIST : errno;
        close(fd);
        errno = saved;
        return -1;
    }
    return fd;
}

int nrc_tap_create(const char *name, unsigned uid, unsigned gid, int mtu)
{
    if (if_nametoindex(name) != 0) {   /* any interface, not only a TAP */
        errno = EEXIST;
        return -1;
    }
    int fd = tap_attach(name, 1);
    if (fd < 0)
        return -1;
    int result = -1;
    if (ioctl(fd, TUNSETOWNER, (unsigned long)uid) == 0 && ioctl(fd, TUNSETGROUP, (unsigned long)gid) == 0 &&
        ioctl(fd, TUNSETPERSIST, 1UL) == 0)
        result = 0;
    int saved = errno;
    close(fd);
    if (result < 0) {
        errno = saved;
        return -1;
    }
    struct ifreq request;
    int sock = interface_socket(name, &request);
    if (sock < 0)
        return -1;
    request.ifr_mtu = mtu;
    result = ioctl(sock, SIOCSIFMTU, &request);
    saved = errno;
    close(sock);
    errno = saved;
    return result;
}

int nrc_tap_delete(const char *name)
{
    if (if_nametoindex(name) == 0) {
        errno = ENODEV;
        return -1;
    }
    int fd = tap_attach(name, 0);
    if (fd < 0)
        return -1;
    int result = ioctl(fd, TUNSETPERSIST, 0UL);
    int saved = errno;
    close(fd);
    errno = saved;
    return result;
}

int nrc_interface_up(const char *name)
{
    struct ifreq request;
    int sock = interface_socket(name, &request);
    if (sock < 0)
        return -1;
    int result = ioctl(sock, SIOCGIFFLAGS, &request);
    if (result == 0) {
        request.ifr_flags |= IFF_UP;
        result = ioctl(sock, SIOCSIFFLAGS, &request);
    }
    int saved = errno;
    close(sock);
    errno = saved;
    return result;
}
