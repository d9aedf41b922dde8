/*
 * udpclient: UDP request/response rate against an echo server.
 *
 *   udpclient ADDR PORT COUNT [SIZE]
 *
 * Sends a SIZE-byte datagram (default 64) and waits for the answer, COUNT
 * times in a row, after 100 unmeasured warm-up exchanges. A request without
 * an answer within 200 ms is counted as lost and sent again (with a new
 * sequence number, so a late answer is not taken for the next one).
 * Prints one line:
 *   udpclient: COUNT requests in T s: R requests/s, mean RTT M us, lost L
 * Exits 1 if more than 1% of the requests were lost.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    if (argc < 4 || argc > 5) {
        fprintf(stderr, "usage: udpclient ADDR PORT COUNT [SIZE]\n");
        return 2;
    }
    struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[2])) };
    if (inet_pton(AF_INET, argv[1], &to.sin_addr) != 1) {
        fprintf(stderr, "udpclient: bad address %s\n", argv[1]);
        return 2;
    }
    long count = atol(argv[3]);
    long size = argc == 5 ? atol(argv[4]) : 64;
    if (count <= 0 || size < 8 || size > 1472) {
        fprintf(stderr, "udpclient: COUNT must be positive and SIZE 8-1472\n");
        return 2;
    }
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&to, sizeof to) != 0) {
        perror("udpclient: socket/connect");
        return 1;
    }
    struct timeval tv = { .tv_sec = 0, .tv_usec = 200000 };
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);

    char out[1472], in[2048];
    memset(out, 'x', sizeof out);
    uint64_t seq = 0;
    long lost = 0;
    double start = 0;
    for (long i = -100; i < count; i++) {
        if (i == 0)
            start = now();
        for (;;) {
            seq++;
            memcpy(out, &seq, sizeof seq);
            if (send(fd, out, (size_t)size, 0) != size) {
                perror("udpclient: send");
                return 1;
            }
            ssize_t n;
            int answered = 0;
            while ((n = recv(fd, in, sizeof in, 0)) >= 0) {
                if (n == size && memcmp(in, &seq, sizeof seq) == 0) {
                    answered = 1;
                    break;
                }
            }
            if (answered)
                break;
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != ECONNREFUSED) {
                perror("udpclient: recv");
                return 1;
            }
            if (i >= 0)
                lost++;
            if (lost > count / 100 + 10) {
                fprintf(stderr, "udpclient: %ld requests lost, giving up\n", lost);
                return 1;
            }
        }
    }
    double t = now() - start;
    printf("udpclient: %ld requests in %.3f s: %.0f requests/s, mean RTT %.1f us, lost %ld\n",
           count, t, (double)count / t, t / (double)count * 1e6, lost);
    return lost * 100 > count ? 1 : 0;
}
