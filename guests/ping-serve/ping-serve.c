/*
 * ping-serve: answers ARP and ICMP echo requests on every configured NIC.
 *
 *   nabla-run --net tap0 ping-serve.nabla --ipv4=10.10.0.2/24 [limit=N]
 *   nabla-run --net net=tapA --net net1=tapB ping-serve.nabla \
 *       --ipv4=net:10.10.0.2/24 --ipv4=net1:10.10.1.2/24
 *
 * Prints "ping-serve: ready" once the NICs are configured. With limit=N
 * (or --limit=N) it stops after N echo replies in total, prints the drops
 * line and "replies N", and returns 0. Without a limit it runs until killed.
 * Returns 2 for bad arguments, 1 if a hypercall fails.
 */
#include "../netstack/netstack_impl.h"

static struct ns_stack net;

int main(int argc, char **argv)
{
    ns_init(&net);
    for (int i = 1; i < argc; i++) {
        int taken = ns_parse_arg(&net, argv[i]);
        if (taken < 0)
            return 2;
        if (taken > 0)
            continue;
        const char *v = NULL;
        if (strncmp(argv[i], "limit=", 6) == 0)
            v = argv[i] + 6;
        else if (strncmp(argv[i], "--limit=", 8) == 0)
            v = argv[i] + 8;
        if (v == NULL || nabla_parse_u64(v, &net.echo_limit) != 0 || net.echo_limit == 0) {
            printf("ping-serve: bad argument '%s'\n"
                   "usage: ping-serve --ipv4=[NAME:]ADDR/PREFIX... [--gw=[NAME:]ADDR] [limit=N]\n",
                   argv[i]);
            return 2;
        }
    }
    if (ns_start(&net) != 0)
        return 2;
    printf("ping-serve: ready\n");

    if (ns_run(&net, "ping-serve") != 0)
        return 1;
    printf("replies %llu\n", (unsigned long long)net.echo_replies);
    return 0;
}
