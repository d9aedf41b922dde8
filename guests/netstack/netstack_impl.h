/*
 * netstack_impl.h: the implementation of netstack.h. Include it in exactly
 * one C file of a guest (see netstack.h for why it is a header).
 *
 * Frame layout, offsets into a frame:
 *   0  Ethernet: destination MAC (6), source MAC (6), ethertype (2)
 *   14 IPv4 header (20: we accept no options) or ARP (28)
 *   34 ICMP (8 + data) or UDP (8 + data)
 *
 * Every multi-byte field is read and written byte by byte in network order,
 * so nothing depends on the buffer's alignment.
 */
#ifndef NABLA_NETSTACK_IMPL_H
#define NABLA_NETSTACK_IMPL_H

#include "netstack.h"

#define NS_ETH_HLEN     14
#define NS_ETH_MIN      60          /* minimum frame, without FCS */
#define NS_ETHERTYPE_IP  0x0800
#define NS_ETHERTYPE_ARP 0x0806
#define NS_ARP_LEN      28
#define NS_IP_HLEN      20
#define NS_PROTO_ICMP   1
#define NS_PROTO_UDP    17
#define NS_ICMP_ECHO_REPLY   0
#define NS_ICMP_ECHO_REQUEST 8

static const uint8_t ns_broadcast_mac[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

/* ---- Byte order and checksums -------------------------------------------- */

static inline uint16_t ns_get16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static inline uint32_t ns_get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static inline void ns_put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static inline void ns_put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}

uint32_t ns_sum(const uint8_t *p, size_t n, uint32_t sum)
{
    /* At most 1514 bytes: 757 words of at most 0xffff cannot overflow 32 bits
     * even when added to a previous partial sum of the same size. */
    while (n >= 2) {
        sum += ns_get16(p);
        p += 2;
        n -= 2;
    }
    if (n)
        sum += (uint32_t)p[0] << 8;
    return sum;
}

uint16_t ns_fold(uint32_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

/* The sum of the UDP pseudo header. */
static uint32_t ns_pseudo_sum(uint32_t src, uint32_t dst, uint8_t proto, uint16_t len)
{
    return (src >> 16) + (src & 0xffff) + (dst >> 16) + (dst & 0xffff) + proto + len;
}

/* ---- Addresses ------------------------------------------------------------- */

int ns_parse_ipv4(const char *text, uint32_t *ip)
{
    uint32_t value = 0;
    for (int part = 0; part < 4; part++) {
        if (part > 0) {
            if (*text != '.')
                return -1;
            text++;
        }
        if (*text < '0' || *text > '9')
            return -1;
        uint32_t octet = 0;
        int digits = 0;
        while (*text >= '0' && *text <= '9') {
            octet = octet * 10 + (uint32_t)(*text - '0');
            text++;
            if (++digits > 3 || octet > 255)
                return -1;
        }
        value = value << 8 | octet;
    }
    if (*text != '\0')
        return -1;
    *ip = value;
    return 0;
}

char *ns_format_ipv4(uint32_t ip, char *buf)
{
    snprintf(buf, 16, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 0xff, (ip >> 8) & 0xff, ip & 0xff);
    return buf;
}

static int ns_mac_is_group(const uint8_t *mac) { return mac[0] & 1; }

static uint32_t ns_prefix_mask(unsigned prefix)
{
    return prefix == 0 ? 0 : 0xffffffffu << (32 - prefix);
}

/* The subnet's broadcast address, or 0 for /31 and /32 (which have none). */
static uint32_t ns_subnet_broadcast(const struct ns_nic *nic)
{
    return nic->prefix >= 31 ? 0 : (nic->addr | ~nic->mask);
}

static int ns_on_link(const struct ns_nic *nic, uint32_t ip)
{
    return (ip & nic->mask) == (nic->addr & nic->mask);
}

/* Never a valid source: 0/8, 127/8, multicast and reserved (224/3),
 * the limited broadcast, our own address, our subnet's broadcast. */
static int ns_martian_source(const struct ns_nic *nic, uint32_t src)
{
    uint8_t top = (uint8_t)(src >> 24);
    if (top == 0 || top == 127 || top >= 224)
        return 1;
    if (src == nic->addr)
        return 1;
    uint32_t bcast = ns_subnet_broadcast(nic);
    return bcast != 0 && src == bcast;
}

/* ---- Set-up -------------------------------------------------------------- */

void ns_init(struct ns_stack *s)
{
    memset(s, 0, sizeof *s);
    s->ip_id = (uint16_t)arc4random();
}

/* Splits "NAME:REST" (NAME non-empty, no '/' or '.' before the colon) from
 * REST; with no such name, *name is "". Returns REST, or NULL if the name
 * does not fit. */
static const char *ns_split_name(const char *value, char *name)
{
    name[0] = '\0';
    const char *colon = strchr(value, ':');
    if (colon == NULL)
        return value;
    size_t n = (size_t)(colon - value);
    if (n == 0 || n >= NABLA_DEVICE_NAME_MAX)
        return NULL;
    memcpy(name, value, n);
    name[n] = '\0';
    return colon + 1;
}

int ns_parse_arg(struct ns_stack *s, const char *arg)
{
    int is_gw;
    const char *value;
    if (strncmp(arg, "--ipv4=", 7) == 0) {
        is_gw = 0;
        value = arg + 7;
    } else if (strncmp(arg, "--gw=", 5) == 0) {
        is_gw = 1;
        value = arg + 5;
    } else {
        return 0;
    }
    if (s->config_count >= (int)(sizeof s->config / sizeof s->config[0])) {
        printf("netstack: too many --ipv4/--gw arguments\n");
        return -1;
    }
    struct ns_config *c = &s->config[s->config_count];
    memset(c, 0, sizeof *c);
    const char *rest = ns_split_name(value, c->nic);
    if (rest == NULL) {
        printf("netstack: bad NIC name in '%s': at most %u characters before ':'\n",
               arg, NABLA_DEVICE_NAME_MAX - 1);
        return -1;
    }
    char addr[16];
    const char *slash = strchr(rest, '/');
    size_t alen = slash ? (size_t)(slash - rest) : strlen(rest);
    if (alen >= sizeof addr)
        goto bad;
    memcpy(addr, rest, alen);
    addr[alen] = '\0';
    if (ns_parse_ipv4(addr, &c->addr) != 0)
        goto bad;
    uint8_t top = (uint8_t)(c->addr >> 24);
    if (top == 0 || top == 127 || top >= 224) {
        printf("netstack: '%s': %s is not a unicast host address\n", arg, addr);
        return -1;
    }
    if (is_gw) {
        if (slash != NULL)
            goto bad;
        c->is_gw = 1;
    } else {
        uint64_t prefix;
        if (slash == NULL || nabla_parse_u64(slash + 1, &prefix) != 0 || prefix < 1 || prefix > 32)
            goto bad;
        c->prefix = (uint8_t)prefix;
        uint32_t mask = ns_prefix_mask(c->prefix);
        if (c->prefix <= 30 && ((c->addr & ~mask) == 0 || (c->addr & ~mask) == ~mask)) {
            printf("netstack: '%s': %s is the network or broadcast address of /%u\n",
                   arg, addr, c->prefix);
            return -1;
        }
    }
    s->config_count++;
    return 1;
bad:
    if (is_gw)
        printf("netstack: bad argument '%s': expected --gw=ADDR or --gw=NAME:ADDR\n", arg);
    else
        printf("netstack: bad argument '%s': expected --ipv4=ADDR/PREFIX or --ipv4=NAME:ADDR/PREFIX "
               "(PREFIX 1-32)\n", arg);
    return -1;
}

/* The stack's NIC for device handle h, adding it if needed. */
static struct ns_nic *ns_nic_for_handle(struct ns_stack *s, int h)
{
    for (int i = 0; i < s->nic_count; i++)
        if (s->nic[i].handle == h)
            return &s->nic[i];
    const struct nabla_device *d = nabla_device(h);
    if (d == NULL || d->kind != NABLA_DEVICE_NET || s->nic_count >= NS_MAX_NICS)
        return NULL;
    struct ns_nic *nic = &s->nic[s->nic_count++];
    memset(nic, 0, sizeof *nic);
    nic->handle = h;
    memcpy(nic->name, d->name, NABLA_DEVICE_NAME_MAX);
    nic->name[NABLA_DEVICE_NAME_MAX - 1] = '\0';
    memcpy(nic->mac, d->u.net.mac, 6);
    return nic;
}

/* The handle of the default NIC: the one named "net", else the first. */
static int ns_default_handle(void)
{
    int h = nabla_device_find("net", NABLA_DEVICE_NET);
    if (h >= 0)
        return h;
    const struct nabla_boot_info *info = nabla_boot_info();
    uint32_t n = info->device_count < NABLA_MAX_DEVICES ? info->device_count : NABLA_MAX_DEVICES;
    for (uint32_t i = 0; i < n; i++)
        if (info->devices[i].kind == NABLA_DEVICE_NET)
            return (int)i;
    return -1;
}

int ns_start(struct ns_stack *s)
{
    /* Addresses first, then gateways (which may need a subnet). */
    for (int pass = 0; pass < 2; pass++) {
        for (int i = 0; i < s->config_count; i++) {
            struct ns_config *c = &s->config[i];
            if (c->is_gw != pass)
                continue;
            char ip[16];
            ns_format_ipv4(c->addr, ip);
            int h;
            if (c->nic[0] != '\0') {
                h = nabla_device_find(c->nic, NABLA_DEVICE_NET);
                if (h < 0) {
                    printf("netstack: no NIC named '%s' (attach one with nabla-run --net %s=TAP)\n",
                           c->nic, c->nic);
                    return -1;
                }
            } else if (!c->is_gw) {
                h = ns_default_handle();
                if (h < 0) {
                    printf("netstack: --ipv4=%s/%u but no NIC is attached (nabla-run --net TAP)\n",
                           ip, c->prefix);
                    return -1;
                }
            } else {
                h = -1;
                for (int j = 0; j < s->nic_count && h < 0; j++)
                    if (s->nic[j].configured && ns_on_link(&s->nic[j], c->addr))
                        h = s->nic[j].handle;
                if (h < 0) {
                    printf("netstack: gateway %s is in no configured subnet (use --gw=NAME:ADDR)\n", ip);
                    return -1;
                }
            }
            struct ns_nic *nic = ns_nic_for_handle(s, h);
            if (nic == NULL) {
                printf("netstack: device %d is not a NIC\n", h);
                return -1;
            }
            if (c->is_gw) {
                if (!nic->configured) {
                    printf("netstack: gateway %s for NIC '%s', which has no --ipv4 address\n", ip, nic->name);
                    return -1;
                }
                if (nic->gw != 0) {
                    printf("netstack: NIC '%s' has two gateways\n", nic->name);
                    return -1;
                }
                if (c->addr == nic->addr) {
                    printf("netstack: gateway %s is the NIC's own address\n", ip);
                    return -1;
                }
                nic->gw = c->addr;
            } else {
                if (nic->configured) {
                    printf("netstack: NIC '%s' has two --ipv4 addresses\n", nic->name);
                    return -1;
                }
                nic->configured = 1;
                nic->addr = c->addr;
                nic->prefix = c->prefix;
                nic->mask = ns_prefix_mask(c->prefix);
            }
        }
    }
    /* NICs without an address are drained too (their frames are counted
     * and dropped): left unread, they would make every poll return at once. */
    const struct nabla_boot_info *info = nabla_boot_info();
    for (uint32_t i = 0; i < info->device_count && i < NABLA_MAX_DEVICES; i++)
        if (info->devices[i].kind == NABLA_DEVICE_NET)
            ns_nic_for_handle(s, (int)i);
    int configured = 0;
    for (int i = 0; i < s->nic_count; i++) {
        struct ns_nic *nic = &s->nic[i];
        if (!nic->configured)
            continue;
        configured++;
        char ip[16], gw[16];
        const uint8_t *m = nic->mac;
        printf("netstack: %s handle %d mac %02x:%02x:%02x:%02x:%02x:%02x ipv4 %s/%u gw %s\n",
               nic->name, nic->handle, m[0], m[1], m[2], m[3], m[4], m[5],
               ns_format_ipv4(nic->addr, ip), nic->prefix,
               nic->gw ? ns_format_ipv4(nic->gw, gw) : "none");
    }
    if (configured == 0) {
        printf("netstack: no address: give --ipv4=ADDR/PREFIX (and attach a NIC with nabla-run --net TAP)\n");
        return -1;
    }
    return 0;
}

int ns_udp_bind(struct ns_stack *s, uint16_t port, ns_udp_fn fn, void *ctx)
{
    int free_slot = -1;
    for (int i = 0; i < NS_UDP_BINDINGS; i++) {
        if (s->udp[i].fn != NULL && s->udp[i].port == port)
            return -1;
        if (s->udp[i].fn == NULL && free_slot < 0)
            free_slot = i;
    }
    if (free_slot < 0 || fn == NULL)
        return -1;
    s->udp[free_slot].port = port;
    s->udp[free_slot].fn = fn;
    s->udp[free_slot].ctx = ctx;
    return 0;
}

struct ns_nic *ns_route(struct ns_stack *s, uint32_t dst)
{
    for (int i = 0; i < s->nic_count; i++)
        if (s->nic[i].configured && ns_on_link(&s->nic[i], dst))
            return &s->nic[i];
    for (int i = 0; i < s->nic_count; i++)
        if (s->nic[i].configured && s->nic[i].gw != 0)
            return &s->nic[i];
    return NULL;
}

/* ---- Output ---------------------------------------------------------------- */

/* Writes a whole frame (padded to the Ethernet minimum). */
static int ns_transmit(struct ns_nic *nic, uint8_t *frame, size_t len)
{
    if (len < NS_ETH_MIN) {
        memset(frame + len, 0, NS_ETH_MIN - len);
        len = NS_ETH_MIN;
    }
    int64_t r = nabla_net_write(nic->handle, frame, len);
    if (r < 0) {
        nic->c.txerr++;
        return (int)r;
    }
    nic->c.tx++;
    return 0;
}

static void ns_eth_header(uint8_t *frame, const uint8_t *dst, const uint8_t *src, uint16_t type)
{
    memcpy(frame, dst, 6);
    memcpy(frame + 6, src, 6);
    ns_put16(frame + 12, type);
}

static void ns_arp_send(struct ns_stack *s, struct ns_nic *nic, uint16_t op,
                        const uint8_t *eth_dst, const uint8_t *tha, uint32_t tpa)
{
    uint8_t *f = s->tx;
    ns_eth_header(f, eth_dst, nic->mac, NS_ETHERTYPE_ARP);
    uint8_t *a = f + NS_ETH_HLEN;
    ns_put16(a, 1);                     /* hardware: Ethernet */
    ns_put16(a + 2, NS_ETHERTYPE_IP);   /* protocol: IPv4 */
    a[4] = 6;
    a[5] = 4;
    ns_put16(a + 6, op);
    memcpy(a + 8, nic->mac, 6);
    ns_put32(a + 14, nic->addr);
    memcpy(a + 18, tha, 6);
    ns_put32(a + 24, tpa);
    ns_transmit(nic, f, NS_ETH_HLEN + NS_ARP_LEN);
}

static void ns_arp_request(struct ns_stack *s, struct ns_nic *nic, uint32_t ip)
{
    static const uint8_t zero[6];
    ns_arp_send(s, nic, 1, ns_broadcast_mac, zero, ip);
}

static struct ns_arp_entry *ns_arp_find(struct ns_nic *nic, uint32_t ip)
{
    for (int i = 0; i < NS_ARP_SLOTS; i++)
        if (nic->arp[i].state != NS_ARP_FREE && nic->arp[i].ip == ip)
            return &nic->arp[i];
    return NULL;
}

/* A free entry, or the least recently used resolved one, or (all pending)
 * the oldest pending one, whose queued frame is then dropped. */
static struct ns_arp_entry *ns_arp_alloc(struct ns_nic *nic)
{
    struct ns_arp_entry *victim = NULL;
    for (int i = 0; i < NS_ARP_SLOTS; i++) {
        struct ns_arp_entry *e = &nic->arp[i];
        if (e->state == NS_ARP_FREE)
            return e;
        if (victim == NULL || (e->state == NS_ARP_RESOLVED && victim->state == NS_ARP_PENDING) ||
            (e->state == victim->state && e->used < victim->used))
            victim = e;
    }
    if (victim->pending_len)
        nic->c.unresolved++;
    memset(victim, 0, offsetof(struct ns_arp_entry, pending));
    return victim;
}

/* Sends (or queues) the IPv4 datagram of `ip_len` bytes already built at
 * s->tx + 14, to next hop `hop` (0 for Ethernet broadcast). */
static int ns_ether_output(struct ns_stack *s, struct ns_nic *nic, uint32_t hop, size_t ip_len)
{
    uint8_t *f = s->tx;
    size_t len = NS_ETH_HLEN + ip_len;
    if (hop == 0) {
        ns_eth_header(f, ns_broadcast_mac, nic->mac, NS_ETHERTYPE_IP);
        return ns_transmit(nic, f, len);
    }
    uint64_t now = nabla_clock_monotonic();
    struct ns_arp_entry *e = ns_arp_find(nic, hop);
    if (e != NULL && e->state == NS_ARP_RESOLVED) {
        e->used = now;
        if (now - e->updated > NS_ARP_TTL_NS && now - e->requested > NS_ARP_RETRY_NS) {
            /* Old: keep using it, but ask again; the answer refreshes it. */
            e->requested = now;
            ns_eth_header(f, e->mac, nic->mac, NS_ETHERTYPE_IP);
            /* The request is built in s->tx too: send the datagram first. */
            int r = ns_transmit(nic, f, len);
            ns_arp_request(s, nic, hop);
            return r;
        }
        ns_eth_header(f, e->mac, nic->mac, NS_ETHERTYPE_IP);
        return ns_transmit(nic, f, len);
    }
    if (e == NULL) {
        e = ns_arp_alloc(nic);
        e->ip = hop;
        e->state = NS_ARP_PENDING;
        e->tries = 0;
    } else if (e->pending_len) {
        nic->c.unresolved++;        /* the newer datagram replaces it */
    }
    e->used = now;
    ns_eth_header(f, ns_broadcast_mac, nic->mac, NS_ETHERTYPE_IP);  /* dst set on answer */
    memcpy(e->pending, f, len);
    e->pending_len = (uint16_t)len;
    if (e->tries == 0) {
        e->tries = 1;
        e->requested = now;
        ns_arp_request(s, nic, hop);
    }
    return 1;
}

/* Fills in the IPv4 header at s->tx + 14 for a payload of `payload_len`
 * bytes already at s->tx + 34, routes and sends it. */
static int ns_ip_output(struct ns_stack *s, struct ns_nic *nic, uint32_t dst, uint8_t proto,
                        size_t payload_len)
{
    if (!nic->configured)
        return NABLA_EINVAL;
    uint32_t hop;
    if (dst == 0xffffffffu || (ns_subnet_broadcast(nic) != 0 && dst == ns_subnet_broadcast(nic)))
        hop = 0;
    else if (ns_on_link(nic, dst))
        hop = dst;
    else if (nic->gw != 0)
        hop = nic->gw;
    else {
        nic->c.noroute++;
        return NABLA_ENODEV;
    }
    uint8_t *ip = s->tx + NS_ETH_HLEN;
    size_t total = NS_IP_HLEN + payload_len;
    ip[0] = 0x45;
    ip[1] = 0;
    ns_put16(ip + 2, (uint16_t)total);
    ns_put16(ip + 4, s->ip_id++);
    ns_put16(ip + 6, 0x4000);           /* DF: we never fragment */
    ip[8] = NS_IP_TTL;
    ip[9] = proto;
    ns_put16(ip + 10, 0);
    ns_put32(ip + 12, nic->addr);
    ns_put32(ip + 16, dst);
    ns_put16(ip + 10, ns_fold(ns_sum(ip, NS_IP_HLEN, 0)));
    return ns_ether_output(s, nic, hop, total);
}

int ns_udp_send(struct ns_stack *s, struct ns_nic *nic, uint32_t dst,
                uint16_t sport, uint16_t dport, const void *data, size_t len)
{
    if (len > NS_UDP_PAYLOAD_MAX || nic == NULL || !nic->configured)
        return NABLA_EINVAL;
    uint8_t *u = s->tx + NS_ETH_HLEN + NS_IP_HLEN;
    uint16_t ulen = (uint16_t)(8 + len);
    /* data may point into s->tx (a reply built in place): memmove. */
    memmove(u + 8, data, len);
    ns_put16(u, sport);
    ns_put16(u + 2, dport);
    ns_put16(u + 4, ulen);
    ns_put16(u + 6, 0);
    uint16_t sum = ns_fold(ns_sum(u, ulen, ns_pseudo_sum(nic->addr, dst, NS_PROTO_UDP, ulen)));
    ns_put16(u + 6, sum == 0 ? 0xffff : sum);   /* 0 would mean "no checksum" */
    return ns_ip_output(s, nic, dst, NS_PROTO_UDP, ulen);
}

/* ---- Input ------------------------------------------------------------------ */

static void ns_arp_input(struct ns_stack *s, struct ns_nic *nic, const uint8_t *a, size_t len)
{
    if (len < NS_ARP_LEN || ns_get16(a) != 1 || ns_get16(a + 2) != NS_ETHERTYPE_IP ||
        a[4] != 6 || a[5] != 4) {
        nic->c.arp++;
        return;
    }
    uint16_t op = ns_get16(a + 6);
    const uint8_t *sha = a + 8;
    uint32_t spa = ns_get32(a + 14);
    uint32_t tpa = ns_get32(a + 24);
    static const uint8_t zero[6];
    if ((op != 1 && op != 2) || ns_mac_is_group(sha) || memcmp(sha, zero, 6) == 0) {
        nic->c.arp++;
        return;
    }
    if (!nic->configured || spa == nic->addr)
        return;     /* not ours to answer, or someone else claims our address */
    uint64_t now = nabla_clock_monotonic();
    /* RFC 826: update an entry we have; add one when the packet is a
     * request for us (as Linux does, an unsolicited reply adds nothing). */
    struct ns_arp_entry *e = ns_arp_find(nic, spa);
    if (e == NULL && op == 1 && tpa == nic->addr && spa != 0 && !ns_martian_source(nic, spa) && ns_on_link(nic, spa)) {
        e = ns_arp_alloc(nic);
        e->ip = spa;
        e->used = now;
    }
    if (e != NULL && spa != 0) {
        memcpy(e->mac, sha, 6);
        e->state = NS_ARP_RESOLVED;
        e->updated = now;
        e->tries = 0;
        if (e->pending_len) {
            uint16_t plen = e->pending_len;
            e->pending_len = 0;
            memcpy(e->pending, sha, 6);
            ns_transmit(nic, e->pending, plen);
        }
    }
    if (op == 1 && tpa == nic->addr)
        ns_arp_send(s, nic, 2, sha, sha, spa);
}

static void ns_icmp_input(struct ns_stack *s, struct ns_nic *nic, uint32_t src,
                          const uint8_t *icmp, size_t len)
{
    if (len < 8 || ns_fold(ns_sum(icmp, len, 0)) != 0) {
        nic->c.icmpcsum++;
        return;
    }
    if (icmp[0] != NS_ICMP_ECHO_REQUEST || icmp[1] != 0)
        return;     /* replies, errors, ...: nothing to do */
    if (s->echo_limit != 0 && s->echo_replies >= s->echo_limit)
        return;
    uint8_t *r = s->tx + NS_ETH_HLEN + NS_IP_HLEN;
    memcpy(r, icmp, len);
    r[0] = NS_ICMP_ECHO_REPLY;
    ns_put16(r + 2, 0);
    ns_put16(r + 2, ns_fold(ns_sum(r, len, 0)));
    if (ns_ip_output(s, nic, src, NS_PROTO_ICMP, len) >= 0) {
        s->echo_replies++;
        if (s->echo_limit != 0 && s->echo_replies >= s->echo_limit)
            s->stop = 1;
    }
}

static void ns_udp_input(struct ns_stack *s, struct ns_nic *nic, const uint8_t *frame,
                         uint32_t src, uint32_t dst, int broadcast, const uint8_t *u, size_t len)
{
    if (len < 8) {
        nic->c.udplen++;
        return;
    }
    uint16_t ulen = ns_get16(u + 4);
    if (ulen < 8 || ulen > len) {
        nic->c.udplen++;
        return;
    }
    if (ns_get16(u + 6) != 0 &&
        ns_fold(ns_sum(u, ulen, ns_pseudo_sum(src, dst, NS_PROTO_UDP, ulen))) != 0) {
        nic->c.udpcsum++;
        return;
    }
    struct ns_udp_meta m;
    m.src = src;
    m.dst = dst;
    m.sport = ns_get16(u);
    m.dport = ns_get16(u + 2);
    memcpy(m.src_mac, frame + 6, 6);
    m.broadcast = (uint8_t)broadcast;
    for (int i = 0; i < NS_UDP_BINDINGS; i++) {
        if (s->udp[i].fn != NULL && s->udp[i].port == m.dport) {
            s->udp[i].fn(s, nic, &m, u + 8, ulen - 8u, s->udp[i].ctx);
            return;
        }
    }
    nic->c.noport++;
}

static void ns_ip_input(struct ns_stack *s, struct ns_nic *nic, const uint8_t *frame,
                        const uint8_t *ip, size_t avail)
{
    if (avail < NS_IP_HLEN || (ip[0] >> 4) != 4 || (ip[0] & 0xf) < 5) {
        nic->c.iplen++;
        return;
    }
    size_t hlen = (size_t)(ip[0] & 0xf) * 4;
    if (hlen > avail) {
        nic->c.iplen++;
        return;
    }
    if (ns_fold(ns_sum(ip, hlen, 0)) != 0) {
        nic->c.ipcsum++;
        return;
    }
    size_t total = ns_get16(ip + 2);
    if (total < hlen || total > avail) {
        nic->c.iplen++;
        return;
    }
    /* Options, and fragments (MF set or a nonzero offset): not handled. The
     * reserved flag bit must be zero. */
    uint16_t frag = ns_get16(ip + 6);
    if (frag & 0x8000) {
        nic->c.iplen++;
        return;
    }
    if (hlen != NS_IP_HLEN || (frag & 0x3fff) != 0) {
        nic->c.ipfrag++;
        return;
    }
    uint32_t src = ns_get32(ip + 12), dst = ns_get32(ip + 16);
    int broadcast = 0;
    if (!nic->configured) {
        nic->c.notours++;
        return;
    }
    if (dst != nic->addr) {
        uint32_t bcast = ns_subnet_broadcast(nic);
        if (dst == 0xffffffffu || (bcast != 0 && dst == bcast))
            broadcast = 1;
        else {
            nic->c.notours++;
            return;
        }
    }
    if (ns_martian_source(nic, src)) {
        nic->c.martian++;
        return;
    }
    /* TTL: a host does not drop a datagram for its TTL (RFC 1122 3.2.1.7). */
    const uint8_t *payload = ip + NS_IP_HLEN;
    size_t plen = total - NS_IP_HLEN;    /* any Ethernet padding is cut off */
    switch (ip[9]) {
    case NS_PROTO_ICMP:
        if (broadcast)
            nic->c.notours++;   /* no answers to broadcast pings */
        else
            ns_icmp_input(s, nic, src, payload, plen);
        break;
    case NS_PROTO_UDP:
        ns_udp_input(s, nic, frame, src, dst, broadcast, payload, plen);
        break;
    default:
        nic->c.proto++;
        break;
    }
}

void ns_input(struct ns_stack *s, struct ns_nic *nic, const uint8_t *frame, size_t len)
{
    nic->c.rx++;
    if (len < NS_ETH_HLEN) {
        nic->c.short_frame++;
        return;
    }
    if (!ns_mac_is_group(frame) && memcmp(frame, nic->mac, 6) != 0) {
        nic->c.othermac++;
        return;
    }
    switch (ns_get16(frame + 12)) {
    case NS_ETHERTYPE_ARP:
        ns_arp_input(s, nic, frame + NS_ETH_HLEN, len - NS_ETH_HLEN);
        break;
    case NS_ETHERTYPE_IP:
        ns_ip_input(s, nic, frame, frame + NS_ETH_HLEN, len - NS_ETH_HLEN);
        break;
    default:
        nic->c.ethertype++;
        break;
    }
}

/* ---- The loop ---------------------------------------------------------------- */

void ns_tick(struct ns_stack *s, uint64_t now)
{
    for (int i = 0; i < s->nic_count; i++) {
        struct ns_nic *nic = &s->nic[i];
        for (int j = 0; j < NS_ARP_SLOTS; j++) {
            struct ns_arp_entry *e = &nic->arp[j];
            if (e->state != NS_ARP_PENDING || now - e->requested < NS_ARP_RETRY_NS)
                continue;
            if (e->tries >= NS_ARP_TRIES) {
                if (e->pending_len)
                    nic->c.unresolved++;
                memset(e, 0, offsetof(struct ns_arp_entry, pending));
                continue;
            }
            e->tries++;
            e->requested = now;
            ns_arp_request(s, nic, e->ip);
        }
    }
}

int64_t ns_poll(struct ns_stack *s, uint64_t timeout_ns)
{
    if (s->stop)
        return 0;
    uint64_t ready = 0;
    int64_t r = nabla_poll(timeout_ns, &ready);
    if (r < 0)
        return r;
    int64_t frames = 0;
    for (int i = 0; i < s->nic_count && ready != 0 && !s->stop; i++) {
        struct ns_nic *nic = &s->nic[i];
        if (nic->handle >= 64 || !(ready & (1ull << nic->handle)))
            continue;
        for (int n = 0; n < NS_DRAIN_MAX && !s->stop; n++) {
            int64_t got = nabla_net_read(nic->handle, s->rx, sizeof s->rx);
            if (got == NABLA_EAGAIN)
                break;
            if (got < 0)
                return got;
            if ((uint64_t)got > sizeof s->rx)   /* cannot happen: never trust it */
                got = sizeof s->rx;
            frames++;
            ns_input(s, nic, s->rx, (size_t)got);
        }
    }
    ns_tick(s, nabla_clock_monotonic());
    return frames;
}

/* ---- Counters ------------------------------------------------------------------ */

void ns_counters_total(const struct ns_stack *s, struct ns_counters *out)
{
    memset(out, 0, sizeof *out);
    uint64_t *sum = (uint64_t *)out;
    for (int i = 0; i < s->nic_count; i++) {
        const uint64_t *c = (const uint64_t *)&s->nic[i].c;
        for (size_t k = 0; k < sizeof *out / sizeof(uint64_t); k++)
            sum[k] += c[k];
    }
}

int ns_format_drops(const struct ns_stack *s, char *buf, size_t size)
{
    struct ns_counters t;
    ns_counters_total(s, &t);
    return snprintf(buf, size,
                    "drops: short=%llu othermac=%llu ethertype=%llu iplen=%llu ipcsum=%llu "
                    "ipfrag=%llu notours=%llu icmpcsum=%llu udplen=%llu udpcsum=%llu proto=%llu "
                    "arp=%llu rx=%llu tx=%llu martian=%llu noport=%llu unresolved=%llu "
                    "noroute=%llu txerr=%llu",
                    (unsigned long long)t.short_frame, (unsigned long long)t.othermac,
                    (unsigned long long)t.ethertype, (unsigned long long)t.iplen,
                    (unsigned long long)t.ipcsum, (unsigned long long)t.ipfrag,
                    (unsigned long long)t.notours, (unsigned long long)t.icmpcsum,
                    (unsigned long long)t.udplen, (unsigned long long)t.udpcsum,
                    (unsigned long long)t.proto, (unsigned long long)t.arp,
                    (unsigned long long)t.rx, (unsigned long long)t.tx,
                    (unsigned long long)t.martian, (unsigned long long)t.noport,
                    (unsigned long long)t.unresolved, (unsigned long long)t.noroute,
                    (unsigned long long)t.txerr);
}

int ns_run(struct ns_stack *s, const char *program)
{
    while (!s->stop) {
        int64_t r = ns_poll(s, 100000000ull);    /* 100 ms: ARP retries */
        if (r < 0) {
            printf("%s: network hypercall failed: %lld\n", program, (long long)r);
            return 1;
        }
    }
    char line[NS_DROPS_LINE_MAX];
    ns_format_drops(s, line, sizeof line);
    printf("%s\n", line);
    return 0;
}

#endif /* NABLA_NETSTACK_IMPL_H */
