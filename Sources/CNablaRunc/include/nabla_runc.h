/*
 * nabla_runc.h: the calls nabla-runc makes that Swift cannot (variadic
 * ioctl/prctl/syscall, control messages, the openat2 and execveat system
 * calls that glibc 2.36 does not wrap). Each returns -1 with errno set on
 * failure, like the call it stands for.
 */
#ifndef NABLA_RUNC_H
#define NABLA_RUNC_H

#include <linux/if_packet.h>   /* struct sockaddr_ll, for getifaddrs */
#include <linux/sched.h>       /* CLONE_NEW* */

/* setns(2) and unshare(2), which glibc declares only under _GNU_SOURCE. */
int nrc_setns(int fd, int nstype);
int nrc_unshare(int flags);

/* open(path, O_PATH | O_CLOEXEC [| O_DIRECTORY]). */
int nrc_open_path(const char *path, int directory);

/* A new pseudo-terminal: returns the master (close-on-exec) and writes
 * the slave's path into name. */
int nrc_open_pty(char *name, unsigned long size);

/* POSIX_SPAWN_SETSID, for posix_spawnattr_setflags. */
int nrc_spawn_setsid_flag(void);

/* pipe2(fds, O_CLOEXEC). */
int nrc_pipe_cloexec(int fds[2]);

/* Marks every descriptor from `first` up close-on-exec (close_range). */
int nrc_cloexec_from(unsigned first);

/* Closes every descriptor from `first` up (close_range). */
int nrc_close_from(unsigned first);

/* openat2(dirfd, path, O_PATH | O_CLOEXEC, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS):
 * opens path as if dirfd were "/", so ".." and absolute symlinks cannot
 * leave it. */
int nrc_open_in_root(int dirfd, const char *path);

/* memfd_create(name, MFD_CLOEXEC): an anonymous file in memory. */
int nrc_memfd(const char *name);

/* execveat(fd, "", argv, envp, AT_EMPTY_PATH): runs the program open at fd. */
int nrc_execveat(int fd, char *const argv[], char *const envp[]);

/* Sends fd over the connected unix socket sock as SCM_RIGHTS, with name
 * as the message body (runc's console-socket protocol). */
int nrc_send_fd(int sock, int fd, const char *name);

/* ioctl(fd, TIOCSCTTY, 0): makes the terminal the controlling one. */
int nrc_set_controlling_terminal(int fd);

/* prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0). */
int nrc_set_no_new_privs(void);

/* prctl(PR_SET_CHILD_SUBREAPER, 0 or 1). */
int nrc_set_child_subreaper(int on);

/* Drops every capability not in the mask from the bounding set. */
int nrc_drop_bounding(unsigned long long bounding);

/* Keeps only the capabilities in the given 64-bit masks: drops the rest
 * from the bounding set, then capset(2) for effective, permitted and
 * inheritable. Ambient capabilities are cleared. */
int nrc_limit_capabilities(unsigned long long bounding, unsigned long long effective,
                           unsigned long long permitted, unsigned long long inheritable);

/* Creates the persistent TAP interface `name` in the current network
 * namespace (TUNSETIFF, TUNSETOWNER, TUNSETGROUP, TUNSETPERSIST) with the
 * given MTU, down. Fails with EEXIST if an interface of that name exists. */
int nrc_tap_create(const char *name, unsigned uid, unsigned gid, int mtu);

/* Deletes the persistent TAP interface `name` (TUNSETPERSIST 0). */
int nrc_tap_delete(const char *name);

/* Sets a network interface up (SIOCSIFFLAGS). */
int nrc_interface_up(const char *name);

/* The MTU of a network interface in the current namespace (SIOCGIFMTU). */
int nrc_interface_mtu(const char *name);

#endif
