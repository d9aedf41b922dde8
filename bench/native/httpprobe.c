/*
 * httpprobe: how often, and how soon, a legitimate HTTP client is served,
 * for bench/synflood.sh.
 *
 *   httpprobe ADDR PORT SECONDS TIMEOUT_MS [first]
 *
 * One request after another for SECONDS (with `first`: until one is
 * served, at most SECONDS): connect, "GET / HTTP/1.0", read
 * the status line; an attempt that is not answered within TIMEOUT_MS
 * (connect included) fails and the next one starts. Prints one line:
 *   httpprobe: OK of N served (P%), first after F ms
 * F is the time from the start to the end of the first served request
 * ("none" if none was). Exits 0.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Waits for `events` on fd until `deadline`; 1 if they came. */
static int wait_for(int fd, short events, double deadline)
{
    struct pollfd p = { .fd = fd, .events = events };
    double left = deadline - now();
    return left > 0 && poll(&p, 1, (int)(left * 1000) + 1) == 1;
}

/* One request: 1 if a "HTTP/1.x 200" status line came back in time. */
static int attempt(const struct sockaddr_in *to, double timeout)
{
    double deadline = now() + timeout;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return 0;
    int ok = 0;
    if (connect(fd, (const struct sockaddr *)to, sizeof *to) == 0 || errno == EINPROGRESS) {
        int err = 0;
        socklen_t len = sizeof err;
        static const char request[] = "GET / HTTP/1.0\r\n\r\n";
        if (wait_for(fd, POLLOUT, deadline) && getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0 &&
            write(fd, request, sizeof request - 1) == (ssize_t)(sizeof request - 1)) {
            char reply[16] = { 0 };
            size_t got = 0;
            while (got < 12 && wait_for(fd, POLLIN, deadline)) {
                ssize_t r = read(fd, reply + got, 12 - got);
                if (r <= 0)
                    break;
                got += (size_t)r;
            }
            ok = got == 12 && memcmp(reply, "HTTP/1.", 7) == 0 && memcmp(reply + 9, "200", 3) == 0;
        }
    }
    close(fd);
    return ok;
}

int main(int argc, char **argv)
{
    if (argc != 5 && !(argc == 6 && strcmp(argv[5], "first") == 0)) {
        fprintf(stderr, "usage: httpprobe ADDR PORT SECONDS TIMEOUT_MS [first]\n");
        return 2;
    }
    struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[2])) };
    double seconds = atof(argv[3]), timeout = atof(argv[4]) / 1000;
    if (inet_pton(AF_INET, argv[1], &to.sin_addr) != 1 || seconds <= 0 || timeout <= 0) {
        fprintf(stderr, "httpprobe: bad address, duration or timeout\n");
        return 2;
    }
    unsigned served = 0, tried = 0;
    double start = now(), first = -1;
    while (now() - start < seconds && !(argc == 6 && served > 0)) {
        tried++;
        if (attempt(&to, timeout)) {
            served++;
            if (first < 0)
                first = now() - start;
        }
    }
    printf("httpprobe: %u of %u served (%.0f%%), first after ", served, tried, 100.0 * served / tried);
    if (first < 0)
        printf("none\n");
    else
        printf("%.0f ms\n", first * 1000);
    return 0;
}
