/*
 * sockets-test: the socket API of guests/net, call by call, with the errno
 * each misuse gets. One line per case (nabla_check.h); the summary line and
 * status 0 when every case matched.
 *
 *   nabla-run --net tap0 sockets-test.nabla --ipv4=10.0.0.2/24 --peer=10.0.0.1:PORT
 *
 * The peer is a TCP server on the host (the test runs one) that echoes what
 * it receives and closes when the guest shuts its side down. Port PORT+1 on
 * the peer must have nothing listening.
 */
#include <nabla_net.h>
#include <nabla_check.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

/* The errno of a call that must fail with -1, or 0 if it did not fail. */
#define FAILS(call) ((call) == -1 ? errno : 0)

static struct sockaddr_in peer;

static struct sockaddr_in address(uint32_t ip_host_order, uint16_t port)
{
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port), .sin_addr = { htonl(ip_host_order) } };
    return a;
}

static void misuse(void)
{
    char buf[16];
    expect("socket-inet6", FAILS(socket(10, SOCK_STREAM, 0)), EAFNOSUPPORT);
    expect("socket-raw", FAILS(socket(AF_INET, 3, 0)), EPROTOTYPE);
    expect("socket-udp-as-tcp", FAILS(socket(AF_INET, SOCK_STREAM, IPPROTO_UDP)), EPROTONOSUPPORT);
    expect("close-not-a-socket", FAILS(close(99)), EBADF);
    /* fd 0 is a descriptor of another kind (<nabla_fd.h>): ENOTSOCK, as on Linux. */
    expect("recv-on-stdin", FAILS(recv(0, buf, sizeof buf, 0)), ENOTSOCK);
    expect("poll-bad-fd", ({ struct pollfd p = { 77, POLLIN, 0 }; poll(&p, 1, 0) == 1 ? p.revents : -1; }), POLLNVAL);

    int udp = socket(AF_INET, SOCK_DGRAM, 0);
    int tcp = socket(AF_INET, SOCK_STREAM, 0);
    expect("listen-on-udp", FAILS(listen(udp, 1)), EOPNOTSUPP);
    expect("accept-not-listening", FAILS(accept(tcp, NULL, NULL)), EINVAL);
    expect("send-not-connected", FAILS(send(tcp, "x", 1, 0)), ENOTCONN);
    expect("sendto-unconnected-udp-no-address", FAILS(send(udp, "x", 1, 0)), EDESTADDRREQ);
    static char big[1473];
    struct sockaddr_in to = peer;
    expect("sendto-over-mtu", FAILS(sendto(udp, big, sizeof big, 0, (struct sockaddr *)&to, sizeof to)), EMSGSIZE);
    expect("sendto-mtu", sendto(udp, big, 1472, 0, (struct sockaddr *)&to, sizeof to), 1472);
    expect("setsockopt-unknown", FAILS(setsockopt(tcp, SOL_SOCKET, 12345, &(int){ 1 }, sizeof(int))), ENOPROTOOPT);
    expect("shutdown-bad-how", FAILS(shutdown(tcp, 7)), EINVAL);

    /* UDP: bind, a receive timeout, non-blocking. */
    struct sockaddr_in me = address(0, 9999);
    expect("bind-udp", bind(udp, (struct sockaddr *)&me, sizeof me), 0);
    int udp2 = socket(AF_INET, SOCK_DGRAM, 0);
    expect("bind-udp-again", FAILS(bind(udp2, (struct sockaddr *)&me, sizeof me)), EADDRINUSE);
    close(udp2);
    struct timeval tv = { 0, 100000 };
    expect("rcvtimeo", setsockopt(udp, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv), 0);
    uint64_t t0 = nabla_clock_monotonic();
    expect("recv-timeout", FAILS(recv(udp, buf, sizeof buf, 0)), EAGAIN);
    uint64_t waited = nabla_clock_monotonic() - t0;
    expect("recv-timeout-waited-100ms", waited >= 100000000u && waited < 1000000000u, 1);
    expect("fcntl-nonblock", fcntl(udp, F_SETFL, O_NONBLOCK), 0);
    expect("fcntl-getfl", fcntl(udp, F_GETFL) & O_NONBLOCK, O_NONBLOCK);
    expect("recv-nonblocking", FAILS(recv(udp, buf, sizeof buf, 0)), EAGAIN);
    struct sockaddr_in name;
    socklen_t len = sizeof name;
    expect("getsockname-udp", getsockname(udp, (struct sockaddr *)&name, &len) == 0 ? ntohs(name.sin_port) : -1, 9999);
    close(udp);
    close(tcp);

    /* Address text. */
    struct in_addr a;
    expect("inet_pton", inet_pton(AF_INET, "10.1.2.3", &a) == 1 && a.s_addr == htonl(0x0a010203), 1);
    expect("inet_pton-bad", inet_pton(AF_INET, "10.1.2", &a), 0);
    a.s_addr = htonl(0xc0a80001);
    expect("inet_ntoa", strcmp(inet_ntoa(a), "192.168.0.1"), 0);
    char text[INET_ADDRSTRLEN];
    expect("inet_ntop-small", inet_ntop(AF_INET, &a, text, 4) == NULL ? errno : 0, ENOSPC);
}

static void tcp_client(void)
{
    /* Nothing listens on the port after the peer's: refused. */
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in closed = peer;
    closed.sin_port = htons(ntohs(peer.sin_port) + 1);
    expect("connect-refused", FAILS(connect(s, (struct sockaddr *)&closed, sizeof closed)), ECONNREFUSED);
    close(s);

    /* Non-blocking connect: EINPROGRESS, then writable, then SO_ERROR 0. */
    s = socket(AF_INET, SOCK_STREAM, 0);
    expect("nodelay-set", setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &(int){ 1 }, sizeof(int)), 0);
    int nodelay = 0;
    socklen_t len = sizeof nodelay;
    expect("nodelay-get", getsockopt(s, IPPROTO_TCP, TCP_NODELAY, &nodelay, &len) == 0 ? nodelay : -1, 1);
    fcntl(s, F_SETFL, O_NONBLOCK);
    expect("connect-nonblocking", FAILS(connect(s, (struct sockaddr *)&peer, sizeof peer)), EINPROGRESS);
    struct pollfd p = { s, POLLOUT, 0 };
    expect("poll-connected", poll(&p, 1, 2000), 1);
    expect("poll-connected-pollout", p.revents & POLLOUT, POLLOUT);
    int error = -1;
    len = sizeof error;
    expect("so-error", getsockopt(s, SOL_SOCKET, SO_ERROR, &error, &len) == 0 ? error : -1, 0);
    struct sockaddr_in other;
    len = sizeof other;
    expect("getpeername", getpeername(s, (struct sockaddr *)&other, &len) == 0 &&
                          other.sin_port == peer.sin_port && other.sin_addr.s_addr == peer.sin_addr.s_addr, 1);
    fcntl(s, F_SETFL, 0);

    /* Echo 100 KB through the peer, with write and read. */
    static uint8_t out[100000], in[100000];
    for (size_t i = 0; i < sizeof out; i++)
        out[i] = (uint8_t)(i * 7 + 3);
    expect("write-100k", write(s, out, sizeof out), (int64_t)sizeof out);
    size_t got = 0;
    while (got < sizeof in) {
        ssize_t n = read(s, in + got, sizeof in - got);
        if (n <= 0) {
            printf("sockets-test: read returned %ld (errno %d) after %zu bytes\n", (long)n, errno, got);
            break;
        }
        got += (size_t)n;
    }
    expect("read-100k", (int64_t)got, (int64_t)sizeof in);
    expect("echo-matches", memcmp(in, out, sizeof in), 0);
    expect("peek", send(s, "peek", 4, 0), 4);
    char four[4];
    expect("recv-peek", recv(s, four, 4, MSG_PEEK) > 0 && recv(s, four, 4, 0) > 0 && memcmp(four, "peek", 4) == 0, 1);

    /* Our FIN: the peer closes too, and we read the end of the stream. */
    expect("shutdown-wr", shutdown(s, SHUT_WR), 0);
    expect("send-after-shutdown", FAILS(send(s, "x", 1, 0)), EPIPE);
    char c;
    expect("recv-eof", recv(s, &c, 1, 0), 0);
    expect("close", close(s), 0);

    /* Both directions shut at once (the peer's kernel holds this second
     * connection in its backlog). */
    s = socket(AF_INET, SOCK_STREAM, 0);
    expect("connect-second", connect(s, (struct sockaddr *)&peer, sizeof peer), 0);
    expect("shutdown-rdwr", shutdown(s, SHUT_RDWR), 0);
    expect("recv-after-shutdown-rdwr", recv(s, &c, 1, 0), 0);
    expect("send-after-shutdown-rdwr", FAILS(send(s, "x", 1, 0)), EPIPE);
    struct pollfd hup = { s, POLLIN, 0 };
    expect("poll-after-shutdown-rdwr", poll(&hup, 1, 0) == 1 && (hup.revents & POLLHUP), 1);
    expect("close-second", close(s), 0);
}

int main(int argc, char **argv)
{
    if (nabla_net_args(&argc, argv) != 0)
        return 2;
    for (int i = 1; i < argc; i++) {
        char host[16];
        const char *colon = strncmp(argv[i], "--peer=", 7) == 0 ? strchr(argv[i] + 7, ':') : NULL;
        uint64_t port;
        if (colon == NULL || (size_t)(colon - argv[i] - 7) >= sizeof host ||
            nabla_parse_u64(colon + 1, &port) != 0 || port == 0 || port > 65534) {
            printf("sockets-test: bad argument '%s' (usage: --ipv4=ADDR/PREFIX --peer=ADDR:PORT)\n", argv[i]);
            return 2;
        }
        memcpy(host, argv[i] + 7, (size_t)(colon - argv[i] - 7));
        host[colon - argv[i] - 7] = '\0';
        uint32_t ip;
        if (nabla_net_parse_ipv4(host, &ip) != 0) {
            printf("sockets-test: bad peer address '%s'\n", host);
            return 2;
        }
        peer = address(ip, (uint16_t)port);
    }
    if (peer.sin_family != AF_INET) {
        printf("sockets-test: give --peer=ADDR:PORT\n");
        return 2;
    }
    if (nabla_net_start() != 0)
        return 2;
    misuse();
    tcp_client();
    expect("open-sockets", nabla_net_open_sockets(), 0);
    return nabla_check_summary();
}
