/*
 * udp-echo: echoes UDP datagrams back to their sender, with the socket API.
 *
 *   nabla-run --net tap0 udp-echo.nabla --ipv4=10.10.0.2/24 [--port=7]
 *
 * Every datagram to --port (default 7) comes back to the sender's address
 * and port, byte for byte. lwIP answers from the NIC its route to the
 * sender goes through, and resolves the sender's MAC with ARP (the source
 * MAC of the datagram is not trusted). Broadcast datagrams are not
 * delivered to the socket (no SO_BROADCAST), so not echoed.
 *
 * Two payloads are commands:
 *   nabla:stats   answered with lwIP's stats line instead of echoed
 *   nabla:quit    prints the stats line and "echoed N", returns 0
 *
 * Prints "udp-echo: ready on port P" once configured. Returns 2 for bad
 * arguments, 1 if a socket call fails.
 */
#include <nabla_net.h>

#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

static uint8_t datagram[65536];

int main(int argc, char **argv)
{
    uint64_t port = 7;
    if (nabla_net_args(&argc, argv) != 0)
        return 2;
    for (int i = 1; i < argc; i++) {
        if (strncmp(argv[i], "--port=", 7) != 0 || nabla_parse_u64(argv[i] + 7, &port) != 0 ||
            port == 0 || port > 65535) {
            printf("udp-echo: bad argument '%s'\n"
                   "usage: udp-echo --ipv4=[NAME:]ADDR/PREFIX... [--gw=[NAME:]ADDR] [--port=P]\n",
                   argv[i]);
            return 2;
        }
    }
    if (nabla_net_start() != 0)
        return 2;
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in me = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                              .sin_addr = { INADDR_ANY } };
    if (fd < 0 || bind(fd, (struct sockaddr *)&me, sizeof me) != 0) {
        printf("udp-echo: cannot bind port %llu: errno %d\n", (unsigned long long)port, errno);
        return 1;
    }
    printf("udp-echo: ready on port %llu\n", (unsigned long long)port);

    static const char stats[] = "nabla:stats", quit[] = "nabla:quit";
    uint64_t echoed = 0;
    for (;;) {
        struct sockaddr_in from;
        socklen_t fromlen = sizeof from;
        ssize_t n = recvfrom(fd, datagram, sizeof datagram, 0, (struct sockaddr *)&from, &fromlen);
        if (n < 0) {
            printf("udp-echo: recvfrom: errno %d\n", errno);
            return 1;
        }
        if ((size_t)n == sizeof stats - 1 && memcmp(datagram, stats, (size_t)n) == 0) {
            char line[NABLA_NET_STATS_MAX];
            int len = nabla_net_format_stats(line, sizeof line);
            if (len >= (int)sizeof line)
                len = (int)sizeof line - 1;
            sendto(fd, line, (size_t)len, 0, (struct sockaddr *)&from, fromlen);
            continue;
        }
        if ((size_t)n == sizeof quit - 1 && memcmp(datagram, quit, (size_t)n) == 0)
            break;
        if (sendto(fd, datagram, (size_t)n, 0, (struct sockaddr *)&from, fromlen) == n)
            echoed++;
    }
    char line[NABLA_NET_STATS_MAX];
    nabla_net_format_stats(line, sizeof line);
    printf("%s\nechoed %llu\n", line, (unsigned long long)echoed);
    close(fd);
    return 0;
}
