/*
 * udpecho: a UDP echo server on the host's own network stack, the native
 * baseline for udp-echo.nabla in bench/net.sh.
 *
 *   udpecho ADDR PORT
 *
 * Sends every datagram back to its sender, until killed or until a datagram
 * that says exactly "nabla:quit" (as udp-echo.nabla, for bench/audit.sh).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <sys/socket.h>

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: udpecho ADDR PORT\n");
        return 2;
    }
    struct sockaddr_in me = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[2])) };
    if (inet_pton(AF_INET, argv[1], &me.sin_addr) != 1) {
        fprintf(stderr, "udpecho: bad address %s\n", argv[1]);
        return 2;
    }
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *)&me, sizeof me) != 0) {
        perror("udpecho: socket/bind");
        return 1;
    }
    printf("udpecho: ready on %s:%s\n", argv[1], argv[2]);
    fflush(stdout);
    char buf[65536];
    for (;;) {
        struct sockaddr_in from;
        socklen_t len = sizeof from;
        ssize_t n = recvfrom(fd, buf, sizeof buf, 0, (struct sockaddr *)&from, &len);
        if (n < 0)
            continue;
        if (n == 10 && memcmp(buf, "nabla:quit", 10) == 0)
            return 0;
        sendto(fd, buf, (size_t)n, 0, (struct sockaddr *)&from, len);
    }
}
