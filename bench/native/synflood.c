/*
 * synflood: sends TCP SYNs with spoofed source addresses onto one Ethernet
 * interface, at a steady rate, for bench/synflood.sh.
 *
 *   synflood IFACE DST_MAC DST_IP DST_PORT SRC_FIRST SRC_COUNT RATE SECONDS
 *
 * Each SYN comes from SRC_FIRST + i % SRC_COUNT (addresses of the test
 * subnet that no host answers ARP for), from a random port and sequence
 * number, and from the Ethernet address 02:00:00:5f:10:0d (no interface
 * has it). The frames go out through an AF_PACKET socket bound to IFACE,
 * so they reach only that link. RATE SYNs a second, paced every
 * millisecond; RATE 0 sends as fast as the socket takes them. Prints one
 * line: synflood: N SYNs in T s (R/s).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <stdint.h>
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

static uint16_t checksum(const uint8_t *p, size_t len, uint32_t sum)
{
    for (size_t i = 0; i + 1 < len; i += 2)
        sum += (uint32_t)p[i] << 8 | p[i + 1];
    if (len & 1)
        sum += (uint32_t)p[len - 1] << 8;
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static void put32(uint8_t *p, uint32_t v) { put16(p, (uint16_t)(v >> 16)); put16(p + 2, (uint16_t)v); }

/* Ethernet (14) + IPv4 (20) + TCP (20 + MSS option 4). */
static size_t syn_frame(uint8_t *f, const uint8_t dst_mac[6], uint32_t src, uint32_t dst, uint16_t dport)
{
    static const uint8_t src_mac[6] = { 0x02, 0x00, 0x00, 0x5f, 0x10, 0x0d };
    memset(f, 0, 58);
    memcpy(f, dst_mac, 6);
    memcpy(f + 6, src_mac, 6);
    put16(f + 12, 0x0800);
    uint8_t *ip = f + 14, *tcp = ip + 20;
    ip[0] = 0x45;
    put16(ip + 2, 44);
    put16(ip + 4, (uint16_t)rand());
    ip[8] = 64;
    ip[9] = 6;
    put32(ip + 12, src);
    put32(ip + 16, dst);
    put16(ip + 10, checksum(ip, 20, 0));
    put16(tcp, (uint16_t)(1024 + rand() % 60000));
    put16(tcp + 2, dport);
    put32(tcp + 4, (uint32_t)rand() << 1 ^ (uint32_t)rand());
    tcp[12] = 6 << 4;               /* 24-byte header */
    tcp[13] = 0x02;                 /* SYN */
    put16(tcp + 14, 64240);
    tcp[20] = 2; tcp[21] = 4; put16(tcp + 22, 1460);
    /* The pseudo-header: addresses, protocol, TCP length. */
    uint32_t sum = (src >> 16) + (src & 0xffff) + (dst >> 16) + (dst & 0xffff) + 6 + 24;
    put16(tcp + 16, checksum(tcp, 24, sum));
    return 58;
}

int main(int argc, char **argv)
{
    if (argc != 9) {
        fprintf(stderr, "usage: synflood IFACE DST_MAC DST_IP DST_PORT SRC_FIRST SRC_COUNT RATE SECONDS\n");
        return 2;
    }
    uint8_t dst_mac[6];
    struct in_addr dst, first;
    if (sscanf(argv[2], "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &dst_mac[0], &dst_mac[1], &dst_mac[2],
               &dst_mac[3], &dst_mac[4], &dst_mac[5]) != 6 ||
        inet_pton(AF_INET, argv[3], &dst) != 1 || inet_pton(AF_INET, argv[5], &first) != 1) {
        fprintf(stderr, "synflood: bad MAC or address\n");
        return 2;
    }
    uint16_t dport = (uint16_t)atoi(argv[4]);
    uint32_t count = (uint32_t)atoi(argv[6]);
    double rate = atof(argv[7]), seconds = atof(argv[8]);
    if (count == 0 || rate < 0 || seconds <= 0) {
        fprintf(stderr, "synflood: SRC_COUNT must be at least 1, RATE at least 0, SECONDS more than 0\n");
        return 2;
    }
    int fd = socket(AF_PACKET, SOCK_RAW, 0);
    unsigned index = if_nametoindex(argv[1]);
    if (fd < 0 || index == 0) {
        fprintf(stderr, "synflood: %s: %s\n", argv[1], strerror(errno));
        return 1;
    }
    struct sockaddr_ll to = { .sll_family = AF_PACKET, .sll_ifindex = (int)index, .sll_halen = 6 };
    memcpy(to.sll_addr, dst_mac, 6);
    srand((unsigned)getpid());
    uint32_t base = ntohl(first.s_addr), target = ntohl(dst.s_addr);
    uint8_t frame[64];
    uint64_t sent = 0;
    double start = now(), end = start + seconds;
    for (double t = start; t < end; t = now()) {
        /* Everything due by now (all at once when RATE is 0). */
        uint64_t due = rate > 0 ? (uint64_t)((t - start) * rate) + 1 : sent + 64;
        while (sent < due) {
            size_t len = syn_frame(frame, dst_mac, base + (uint32_t)(sent % count), target, dport);
            if (sendto(fd, frame, len, 0, (struct sockaddr *)&to, sizeof to) < 0) {
                if (errno == ENOBUFS || errno == EAGAIN)
                    break;              /* the queue is full: try again shortly */
                fprintf(stderr, "synflood: send: %s\n", strerror(errno));
                return 1;
            }
            sent++;
        }
        if (rate > 0) {
            struct timespec pause = { 0, 1000000 };
            nanosleep(&pause, NULL);
        }
    }
    double took = now() - start;
    printf("synflood: %llu SYNs in %.2f s (%.0f/s)\n", (unsigned long long)sent, took, sent / took);
    return 0;
}
