/*
 * probe (native): a small program with files, sockets and clocks, whose
 * traced run gives the seccomp profile the tests load into podman
 * (`nabla-run --audit-native --seccomp-profile`, docs/audit.md).
 *
 *   probe          write, read back and remove ./probe.txt; a message over
 *                  a unix socket pair and a datagram to itself over UDP on
 *                  127.0.0.1; sleep 1 ms; read the process's CPU clock;
 *                  print "probe ok" and exit 0
 *   probe extra    the same, then one more system call, sysinfo(2): prints
 *                  "sysinfo: OK" or "sysinfo: errno N (TEXT)" and exits 0
 *                  or 3
 *
 * Any other failure prints the call and its error and exits 1.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/sysinfo.h>
#include <time.h>
#include <unistd.h>

static int fail(const char *what) {
    printf("%s: %s\n", what, strerror(errno));
    return 1;
}

static int files(void) {
    char buffer[16] = {0};
    int fd = open("probe.txt", O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return fail("open probe.txt");
    if (write(fd, "probe", 5) != 5) return fail("write probe.txt");
    if (pread(fd, buffer, sizeof buffer, 0) != 5 || memcmp(buffer, "probe", 5) != 0) return fail("pread probe.txt");
    close(fd);
    if (unlink("probe.txt") != 0) return fail("unlink probe.txt");
    return 0;
}

static int sockets(void) {
    int pair[2];
    char buffer[16] = {0};
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0) return fail("socketpair");
    if (write(pair[0], "ping", 4) != 4 || read(pair[1], buffer, sizeof buffer) != 4) return fail("unix socket");
    close(pair[0]);
    close(pair[1]);

    int udp = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (udp < 0) return fail("socket AF_INET");
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t length = sizeof address;
    if (bind(udp, (struct sockaddr *)&address, sizeof address) != 0) return fail("bind 127.0.0.1");
    if (getsockname(udp, (struct sockaddr *)&address, &length) != 0) return fail("getsockname");
    if (sendto(udp, "pong", 4, 0, (struct sockaddr *)&address, sizeof address) != 4) return fail("sendto");
    if (recvfrom(udp, buffer, sizeof buffer, 0, NULL, NULL) != 4 || memcmp(buffer, "pong", 4) != 0) return fail("recvfrom");
    close(udp);
    return 0;
}

static int clocks(void) {
    struct timespec nap = {.tv_sec = 0, .tv_nsec = 1000000}, used;
    if (clock_nanosleep(CLOCK_MONOTONIC, 0, &nap, NULL) != 0) return fail("clock_nanosleep");
    /* Not served by the vDSO: a real system call with the clock's id. */
    if (clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &used) != 0) return fail("clock_gettime");
    return 0;
}

int main(int argc, char **argv) {
    if (files() || sockets() || clocks()) return 1;
    printf("probe ok\n");
    if (argc > 1 && strcmp(argv[1], "extra") == 0) {
        struct sysinfo info;
        if (sysinfo(&info) != 0) {
            int error = errno;
            printf("sysinfo: errno %d (%s)\n", error, strerror(error));
            return 3;
        }
        printf("sysinfo: OK\n");
    }
    return 0;
}
