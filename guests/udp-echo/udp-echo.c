/*
 * udp-echo: echoes UDP datagrams back to their sender.
 *
 *   nabla-run --net tap0 udp-echo.nabla --ipv4=10.10.0.2/24 [--port=7]
 *
 * Every datagram to --port (default 7) on our own address comes back to the
 * sender's address and port, byte for byte, from the same NIC. The reply
 * goes to the MAC in the NIC's ARP cache (a host that sends to us has
 * normally ARPed for us first, and its request put it in the cache);
 * otherwise the stack resolves it with ARP, holding the reply meanwhile.
 * The source MAC of the datagram is not used: the frame is not trusted to
 * name the sender's link address.
 *
 * Two payloads are commands:
 *   nabla:stats   answered with the drops line (netstack.h) instead of echoed
 *   nabla:quit    prints the drops line and returns 0 (no answer)
 *
 * Datagrams to a broadcast address are not echoed. Prints
 * "udp-echo: ready on port P" once configured. Returns 2 for bad arguments,
 * 1 if a hypercall fails.
 */
#include "../netstack/netstack_impl.h"

static struct ns_stack net;
static uint64_t echoed;

static void on_datagram(struct ns_stack *s, struct ns_nic *nic, const struct ns_udp_meta *m,
                        const uint8_t *data, size_t len, void *ctx)
{
    (void)ctx;
    if (m->broadcast)
        return;
    static const char stats[] = "nabla:stats", quit[] = "nabla:quit";
    if (len == sizeof stats - 1 && memcmp(data, stats, len) == 0) {
        char line[NS_DROPS_LINE_MAX];
        int n = ns_format_drops(s, line, sizeof line);
        if (n >= (int)sizeof line)
            n = (int)sizeof line - 1;
        ns_udp_send(s, nic, m->src, m->dport, m->sport, line, (size_t)n);
        return;
    }
    if (len == sizeof quit - 1 && memcmp(data, quit, len) == 0) {
        s->stop = 1;
        return;
    }
    if (ns_udp_send(s, nic, m->src, m->dport, m->sport, data, len) >= 0)
        echoed++;
}

int main(int argc, char **argv)
{
    uint64_t port = 7;
    ns_init(&net);
    for (int i = 1; i < argc; i++) {
        int taken = ns_parse_arg(&net, argv[i]);
        if (taken < 0)
            return 2;
        if (taken > 0)
            continue;
        if (strncmp(argv[i], "--port=", 7) != 0 || nabla_parse_u64(argv[i] + 7, &port) != 0 ||
            port == 0 || port > 65535) {
            printf("udp-echo: bad argument '%s'\n"
                   "usage: udp-echo --ipv4=[NAME:]ADDR/PREFIX... [--gw=[NAME:]ADDR] [--port=P]\n",
                   argv[i]);
            return 2;
        }
    }
    if (ns_start(&net) != 0)
        return 2;
    if (ns_udp_bind(&net, (uint16_t)port, on_datagram, NULL) != 0) {
        printf("udp-echo: cannot bind port %llu\n", (unsigned long long)port);
        return 1;
    }
    printf("udp-echo: ready on port %llu\n", (unsigned long long)port);

    if (ns_run(&net, "udp-echo") != 0)
        return 1;
    printf("echoed %llu\n", (unsigned long long)echoed);
    return 0;
}
