/*
 * netstack.h: a small IPv4 network stack for nabla guests.
 *
 * Ethernet II, ARP, IPv4 (no fragments, no options), ICMP echo and UDP, over
 * the NICs the tender attached (--net). Single-threaded and allocation free:
 * all state lives in one struct ns_stack the guest owns (make it static: it
 * holds the ARP caches and their queued frames).
 *
 * This directory holds headers only, so that guests/Makefile (which builds
 * every directory with .c files as a guest) does not take it for a guest.
 * A guest includes the implementation in exactly one of its C files:
 *
 *     #include "../netstack/netstack_impl.h"     (also declares the API)
 *
 * and other files of the same guest include "../netstack/netstack.h".
 *
 * Use:
 *
 *     static struct ns_stack net;
 *     ns_init(&net);
 *     for each argument: ns_parse_arg(&net, arg)   1 = taken, 0 = not a
 *                                                  stack argument, -1 = bad
 *     ns_start(&net);                              binds addresses to NICs
 *     ns_udp_bind(&net, 7, handler, ctx);          optional
 *     while (!net.stop) ns_poll(&net, 100000000);  100 ms
 *
 * Arguments (guest arguments, see guests/NET.md):
 *   --ipv4=ADDR/PREFIX        address of the NIC named "net" (or the first NIC)
 *   --ipv4=NAME:ADDR/PREFIX   address of the NIC named NAME
 *   --gw=ADDR                 default gateway, on the NIC whose subnet holds it
 *   --gw=NAME:ADDR            default gateway on NIC NAME (assumed on-link)
 *
 * Every frame that is malformed or not for us is dropped and counted in
 * struct ns_counters; nothing in a received frame is trusted before it has
 * been checked against the frame's real length.
 *
 * Addresses (uint32_t) are in host byte order throughout the API; ports are
 * host byte order too.
 */
#ifndef NABLA_NETSTACK_H
#define NABLA_NETSTACK_H

#include <nabla.h>

#define NS_MAX_NICS        ((int)NABLA_MAX_DEVICES)
#define NS_ARP_SLOTS       16              /* cache entries per NIC */
#define NS_ARP_TRIES       3               /* requests before giving up */
#define NS_ARP_RETRY_NS    250000000ull    /* between two requests: 250 ms */
#define NS_ARP_TTL_NS      60000000000ull  /* refresh an entry after 60 s */
#define NS_UDP_BINDINGS    8
#define NS_DRAIN_MAX       1024            /* frames per NIC per ns_poll round */
#define NS_IP_TTL          64              /* TTL of every datagram we send */
#define NS_UDP_PAYLOAD_MAX (NABLA_NET_MTU - 20 - 8)  /* 1472 */
#define NS_DROPS_LINE_MAX  384             /* ns_format_drops never needs more */

/* Counters, per NIC (ns_counters_total sums them). The first group are the
 * drops the stats line always shows, in its order. */
struct ns_counters {
    uint64_t short_frame;   /* shorter than an Ethernet header (14 bytes) */
    uint64_t othermac;      /* unicast to another MAC */
    uint64_t ethertype;     /* neither IPv4 nor ARP (IPv6, VLAN, ...) */
    uint64_t iplen;         /* bad IPv4 header: version, IHL < 5, length */
    uint64_t ipcsum;        /* bad IPv4 header checksum */
    uint64_t ipfrag;        /* a fragment, or a header with options (IHL != 5) */
    uint64_t notours;       /* IPv4 to an address that is not ours */
    uint64_t icmpcsum;      /* ICMP shorter than 8 bytes or bad checksum */
    uint64_t udplen;        /* UDP shorter than 8 bytes or length field wrong */
    uint64_t udpcsum;       /* UDP with a nonzero, wrong checksum */
    uint64_t proto;         /* IPv4 protocol other than ICMP and UDP */
    uint64_t arp;           /* malformed ARP, or ARP for another protocol */
    /* Traffic. */
    uint64_t rx;            /* frames read */
    uint64_t tx;            /* frames written */
    /* Other drops (shown after rx and tx). */
    uint64_t martian;       /* IPv4 from 0/8, 127/8, multicast, broadcast, us */
    uint64_t noport;        /* UDP to a port nothing is bound to */
    uint64_t unresolved;    /* outgoing datagram dropped: ARP got no answer
                               (or a newer one replaced it in the queue) */
    uint64_t noroute;       /* outgoing datagram with no route */
    uint64_t txerr;         /* netwrite failed (host queue full, error) */
};

enum ns_arp_state { NS_ARP_FREE = 0, NS_ARP_PENDING, NS_ARP_RESOLVED };

struct ns_arp_entry {
    uint32_t ip;
    uint8_t  mac[6];
    uint8_t  state;         /* enum ns_arp_state */
    uint8_t  tries;         /* requests sent while pending */
    uint64_t updated;       /* monotonic ns: resolved or confirmed */
    uint64_t requested;     /* monotonic ns: last request sent */
    uint64_t used;          /* monotonic ns: last looked up (for eviction) */
    uint16_t pending_len;   /* a frame waiting for the answer, or 0 */
    uint8_t  pending[NABLA_NET_FRAME_MAX];
};

struct ns_nic {
    int      handle;        /* device handle */
    char     name[NABLA_DEVICE_NAME_MAX];
    uint8_t  mac[6];
    uint8_t  configured;    /* has an address */
    uint8_t  prefix;
    uint32_t addr, mask, gw;   /* gw 0: none */
    struct ns_counters c;
    struct ns_arp_entry arp[NS_ARP_SLOTS];
};

/* A received UDP datagram. */
struct ns_udp_meta {
    uint32_t src, dst;
    uint16_t sport, dport;
    uint8_t  src_mac[6];
    uint8_t  broadcast;     /* sent to a broadcast address, not to ours */
};

struct ns_stack;
typedef void (*ns_udp_fn)(struct ns_stack *s, struct ns_nic *nic,
                          const struct ns_udp_meta *m, const uint8_t *data,
                          size_t len, void *ctx);

/* Configuration gathered from arguments before ns_start. */
struct ns_config {
    char     nic[NABLA_DEVICE_NAME_MAX];   /* "" = the default NIC */
    uint32_t addr;
    uint8_t  prefix;
    uint8_t  is_gw;
};

struct ns_stack {
    struct ns_nic nic[NS_MAX_NICS];
    int nic_count;
    struct {
        uint16_t  port;
        ns_udp_fn fn;
        void     *ctx;
    } udp[NS_UDP_BINDINGS];
    struct ns_config config[2 * NS_MAX_NICS];
    int config_count;
    uint64_t echo_replies;  /* ICMP echo replies sent */
    uint64_t echo_limit;    /* 0: answer forever; else stop after that many */
    int stop;               /* set to leave ns_poll's loop (by a handler, or
                               when echo_limit is reached) */
    uint16_t ip_id;
    uint8_t  rx[NABLA_NET_FRAME_MAX] __attribute__((aligned(16)));
    uint8_t  tx[64 + NABLA_NET_FRAME_MAX] __attribute__((aligned(16)));
};

/* Clears the stack. */
void ns_init(struct ns_stack *s);
/* Takes one guest argument: 1 if it is a stack argument (--ipv4=, --gw=),
 * 0 if not, -1 if it is one but malformed (a message is printed). */
int ns_parse_arg(struct ns_stack *s, const char *arg);
/* Attaches the configured addresses to the NICs, printing one line per NIC:
 *   netstack: NAME handle H mac M ipv4 A/P gw G
 * Returns 0, or -1 (with a message) if a NIC is missing, configured twice,
 * or no NIC has an address. */
int ns_start(struct ns_stack *s);
/* Delivers UDP datagrams for `port` to fn. 0, or -1 if the table is full or
 * the port is taken. */
int ns_udp_bind(struct ns_stack *s, uint16_t port, ns_udp_fn fn, void *ctx);

/* Waits up to timeout_ns for input, reads every frame waiting on each
 * ready NIC (until NABLA_EAGAIN, at most NS_DRAIN_MAX per NIC per call) and
 * processes it, then runs ns_tick. Returns the number of frames read, or a
 * negative NABLA_E* code from the poll or netread hypercall. Returns at once
 * once s->stop is set. */
int64_t ns_poll(struct ns_stack *s, uint64_t timeout_ns);
/* The main loop of a network guest: ns_poll every 100 ms (for ARP retries)
 * until s->stop, then prints the drops line. Returns 0, or 1 (with a line
 * naming `program`) if a network hypercall failed. */
int ns_run(struct ns_stack *s, const char *program);
/* Processes one received frame. */
void ns_input(struct ns_stack *s, struct ns_nic *nic, const uint8_t *frame, size_t len);
/* ARP retries and timeouts; `now` is nabla_clock_monotonic(). */
void ns_tick(struct ns_stack *s, uint64_t now);

/* Sends a UDP datagram from `nic`'s address. Returns 0 when the frame was
 * written, 1 when it waits for an ARP answer, or a negative NABLA_E* code:
 * NABLA_EINVAL (len > NS_UDP_PAYLOAD_MAX or the NIC has no address),
 * NABLA_ENODEV (no route), or netwrite's error. */
int ns_udp_send(struct ns_stack *s, struct ns_nic *nic, uint32_t dst,
                uint16_t sport, uint16_t dport, const void *data, size_t len);
/* The NIC to reach dst through: the one whose subnet holds it, else the first
 * with a gateway; NULL if none. */
struct ns_nic *ns_route(struct ns_stack *s, uint32_t dst);

/* Sums every NIC's counters. */
void ns_counters_total(const struct ns_stack *s, struct ns_counters *out);
/* Formats the totals as one line (no newline):
 *   drops: short=N othermac=N ethertype=N iplen=N ipcsum=N ipfrag=N notours=N
 *   icmpcsum=N udplen=N udpcsum=N proto=N arp=N rx=N tx=N martian=N noport=N
 *   unresolved=N noroute=N txerr=N
 * Returns the length, as snprintf does. */
int ns_format_drops(const struct ns_stack *s, char *buf, size_t size);

/* "a.b.c.d" (exactly four decimal parts, each 0-255) into *ip: 0 or -1. */
int ns_parse_ipv4(const char *text, uint32_t *ip);
/* Formats ip as a.b.c.d into buf (at least 16 bytes); returns buf. */
char *ns_format_ipv4(uint32_t ip, char *buf);

/* The Internet checksum (RFC 1071) of p[0..n), continuing from `sum` (an
 * unfolded partial sum, 0 to start); ns_fold gives the 16-bit result. */
uint32_t ns_sum(const uint8_t *p, size_t n, uint32_t sum);
uint16_t ns_fold(uint32_t sum);

#endif /* NABLA_NETSTACK_H */
