/*
 * iperf: an iperf2 server (TCP, port 5001) on lwIP's lwiperf app, for bulk
 * throughput. Debian's `iperf` is the client:
 *
 *   nabla-run --net tap0 iperf.nabla --ipv4=10.0.0.2/24 [--sessions=N]
 *   iperf -c 10.0.0.2 -t 3
 *
 * Prints "iperf: ready on port 5001", then one line per finished session:
 *   iperf: session from A:P bytes=N ms=N kbits=N (TYPE)
 * With --sessions=N it prints lwIP's stats line after the N-th session and
 * returns 0; without, it runs until killed. Returns 2 for bad arguments,
 * 1 if the network fails.
 */
#include <nabla_net.h>

#include "lwip/apps/lwiperf.h"
#include "lwip/ip_addr.h"

static volatile int stop;
static uint64_t sessions, limit;

static const char *type_name(enum lwiperf_report_type type)
{
    switch (type) {
    case LWIPERF_TCP_DONE_SERVER:         return "done";
    case LWIPERF_TCP_ABORTED_LOCAL:       return "aborted locally";
    case LWIPERF_TCP_ABORTED_LOCAL_DATAERROR: return "data error";
    case LWIPERF_TCP_ABORTED_LOCAL_TXERROR: return "send error";
    case LWIPERF_TCP_ABORTED_REMOTE:      return "aborted by the client";
    default:                              return "other";
    }
}

static void report(void *arg, enum lwiperf_report_type type, const ip_addr_t *local_addr, u16_t local_port,
                   const ip_addr_t *remote_addr, u16_t remote_port, u32_t bytes, u32_t ms, u32_t kbits)
{
    (void)arg;
    (void)local_addr;
    (void)local_port;
    uint32_t a = lwip_ntohl(ip4_addr_get_u32(ip_2_ip4(remote_addr)));
    printf("iperf: session from %u.%u.%u.%u:%u bytes=%u ms=%u kbits=%u (%s)\n", a >> 24, (a >> 16) & 0xff,
           (a >> 8) & 0xff, a & 0xff, remote_port, bytes, ms, kbits, type_name(type));
    if (limit != 0 && ++sessions >= limit)
        stop = 1;
}

int main(int argc, char **argv)
{
    if (nabla_net_args(&argc, argv) != 0)
        return 2;
    for (int i = 1; i < argc; i++) {
        if (strncmp(argv[i], "--sessions=", 11) != 0 || nabla_parse_u64(argv[i] + 11, &limit) != 0 || limit == 0) {
            printf("iperf: bad argument '%s'\n"
                   "usage: iperf --ipv4=[NAME:]ADDR/PREFIX [--gw=ADDR] [--sessions=N]\n", argv[i]);
            return 2;
        }
    }
    if (nabla_net_start() != 0)
        return 2;
    if (lwiperf_start_tcp_server_default(report, NULL) == NULL) {
        printf("iperf: cannot listen on port %d\n", LWIPERF_TCP_PORT_DEFAULT);
        return 1;
    }
    printf("iperf: ready on port %d\n", LWIPERF_TCP_PORT_DEFAULT);
    if (nabla_net_run("iperf", &stop) != 0)
        return 1;
    char line[NABLA_NET_STATS_MAX];
    nabla_net_format_stats(line, sizeof line);
    printf("%s\n", line);
    return 0;
}
