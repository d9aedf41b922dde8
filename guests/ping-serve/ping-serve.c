/*
 * ping-serve: answers ARP and ICMP echo requests on every configured NIC.
 * lwIP does the answering; this guest only configures it and counts.
 *
 *   nabla-run --net tap0 ping-serve.nabla --ipv4=10.10.0.2/24 [limit=N]
 *   nabla-run --net net=tapA --net net1=tapB ping-serve.nabla \
 *       --ipv4=net:10.10.0.2/24 --ipv4=net1:10.10.1.2/24
 *
 * Prints "ping-serve: ready" once the NICs are configured. With limit=N
 * (or --limit=N) it stops after N echo replies in total (over all NICs),
 * prints lwIP's stats line and "replies N", and returns 0. Without a limit
 * it runs until killed. Returns 2 for bad arguments, 1 if a hypercall fails.
 */
#include <nabla_net.h>

#include "lwip/stats.h"

int main(int argc, char **argv)
{
    uint64_t limit = 0;
    if (nabla_net_args(&argc, argv) != 0)
        return 2;
    for (int i = 1; i < argc; i++) {
        const char *v = NULL;
        if (strncmp(argv[i], "limit=", 6) == 0)
            v = argv[i] + 6;
        else if (strncmp(argv[i], "--limit=", 8) == 0)
            v = argv[i] + 8;
        if (v == NULL || nabla_parse_u64(v, &limit) != 0 || limit == 0) {
            printf("ping-serve: bad argument '%s'\n"
                   "usage: ping-serve --ipv4=[NAME:]ADDR/PREFIX... [--gw=[NAME:]ADDR] [limit=N]\n",
                   argv[i]);
            return 2;
        }
    }
    if (nabla_net_start() != 0)
        return 2;
    printf("ping-serve: ready\n");

    /* lwIP answers each echo request as it processes the frame; the loop
     * checks its count after every round. */
    for (;;) {
        int64_t r = nabla_net_wait(UINT64_MAX);
        if (r < 0) {
            printf("ping-serve: network hypercall failed: %lld\n", (long long)r);
            return 1;
        }
        if (limit != 0 && lwip_stats.mib2.icmpoutechoreps >= limit)
            break;
    }
    char line[NABLA_NET_STATS_MAX];
    nabla_net_format_stats(line, sizeof line);
    printf("%s\nreplies %llu\n", line, (unsigned long long)lwip_stats.mib2.icmpoutechoreps);
    return 0;
}
