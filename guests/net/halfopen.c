/*
 * halfopen.c: half-open TCP connections (SYN received, SYN-ACK sent, no
 * ACK yet) under a SYN flood, spoofed sources included.
 *
 * lwIP 2.1 keeps a half-open connection for 20 s (TCP_SYN_RCVD_TIMEOUT,
 * not configurable) and, once a listener's backlog of them is full, drops
 * every new SYN: 10,000 spoofed SYNs kept clients out for 20 s. And it
 * sends each SYN-ACK through ARP: for a spoofed source that no host
 * answers for, the SYN-ACK waits in ARP's queue, and the ARP table, which
 * recycles stable entries first, loses the real clients' entries. Here,
 * with lwIP's own hooks (docs/network-stack.md, "SYN floods"):
 *
 * - Each listener keeps at most NL_HALF_OPEN_MAX half-open connections;
 *   a new SYN beyond that drops the oldest of them (lwIP's passive-open
 *   extension callback), so a client's SYN always gets its SYN-ACK.
 * - A half-open connection expires after NL_HALF_OPEN_TIMEOUT_MS without
 *   its ACK (a timer here; lwIP's own 20 s is the fallback).
 * - Half-open connections run at TCP_PRIO_MIN until accepted, so when the
 *   pcb pool is full, lwIP's tcp_alloc frees the oldest of them first,
 *   never an established connection.
 * - A SYN-ACK goes to the Ethernet address its SYN came from, without
 *   ARP: spoofed SYNs leave neither queued packets nor entries in the ARP
 *   table. The address is remembered per (source address, port) for the
 *   last NL_SYN_SOURCES SYNs; a SYN-ACK whose SYN is no longer there goes
 *   through ARP as before.
 */
#include "net_internal.h"

#include "lwip/etharp.h"
#include "netif/ethernet.h"
#include "lwip/prot/ethernet.h"
#include "lwip/prot/ip.h"
#include "lwip/prot/ip4.h"
#include "lwip/prot/tcp.h"
#include "lwip/priv/tcp_priv.h"
#include "lwip/tcp.h"
#include "lwip/timeouts.h"

#define NL_HALF_OPEN_MAX        64      /* per listener */
#define NL_HALF_OPEN_TIMEOUT_MS 2000
#define NL_SYN_SOURCES          256     /* a power of two */

/* The timeout in lwIP's slow-timer ticks (tcp_ticks, TCP_SLOW_INTERVAL). */
#define HALF_OPEN_TICKS (NL_HALF_OPEN_TIMEOUT_MS / TCP_SLOW_INTERVAL)

/* ---- Half-open connections per listener ------------------------------------------ */

static u8_t ext_id;
static int ext_id_allocated;

/* Drops half-open connection pcb: no RST (its source may be spoofed). */
static void drop(struct tcp_pcb *pcb)
{
    TCP_STATS_INC(tcp.drop);
    tcp_abandon(pcb, 0);
}

static err_t on_passive_open(u8_t id, struct tcp_pcb_listen *lpcb, struct tcp_pcb *cpcb)
{
    (void)id;
    tcp_setprio(cpcb, TCP_PRIO_MIN);
    struct tcp_pcb *oldest = NULL;
    u32_t oldest_age = 0;
    int count = 0;
    for (struct tcp_pcb *pcb = tcp_active_pcbs; pcb != NULL; pcb = pcb->next) {
        if (pcb->state != SYN_RCVD || pcb->listener != lpcb || pcb == cpcb)
            continue;
        count++;
        /* The list is newest first: on equal ages the later one is older. */
        u32_t age = tcp_ticks - pcb->tmr;
        if (oldest == NULL || age >= oldest_age) {
            oldest = pcb;
            oldest_age = age;
        }
    }
    if (count >= NL_HALF_OPEN_MAX)
        drop(oldest);
    return ERR_OK;
}

static const struct tcp_ext_arg_callbacks listener_callbacks = { .passive_open = on_passive_open };

/* Every TCP_SLOW_INTERVAL: expires the half-open connections older than
 * NL_HALF_OPEN_TIMEOUT_MS. */
static void expire(void *arg)
{
    (void)arg;
    struct tcp_pcb *pcb = tcp_active_pcbs;
    while (pcb != NULL) {
        struct tcp_pcb *next = pcb->next;
        if (pcb->state == SYN_RCVD && tcp_ticks - pcb->tmr >= HALF_OPEN_TICKS)
            drop(pcb);
        pcb = next;
    }
    sys_timeout(TCP_SLOW_INTERVAL, expire, NULL);
}

void nl_halfopen_listen(struct tcp_pcb *lpcb)
{
    if (!ext_id_allocated) {
        ext_id = tcp_ext_arg_alloc_id();
        ext_id_allocated = 1;
        sys_timeout(TCP_SLOW_INTERVAL, expire, NULL);
    }
    tcp_ext_arg_set_callbacks(lpcb, ext_id, &listener_callbacks);
}

void nl_halfopen_accepted(struct tcp_pcb *pcb)
{
    tcp_setprio(pcb, TCP_PRIO_NORMAL);
}

/* ---- SYN-ACKs to where the SYN came from ------------------------------------------ */

struct syn_source {
    u32_t addr;                 /* both as on the wire; addr 0: empty */
    u16_t port;
    struct eth_addr mac;
};

static struct syn_source syn_sources[NL_SYN_SOURCES];

static struct syn_source *slot(u32_t addr, u16_t port)
{
    u32_t h = (addr ^ port) * 2654435761u;
    return &syn_sources[h >> 24 & (NL_SYN_SOURCES - 1)];
}

/* The TCP header of an IPv4 packet of len bytes at ip, or NULL. */
static const u8_t *tcp_header(const u8_t *ip, size_t len)
{
    if (len < IP_HLEN || ip[0] >> 4 != 4 || ip[9] != IP_PROTO_TCP)
        return NULL;
    size_t hlen = (size_t)(ip[0] & 0x0f) * 4;
    return hlen >= IP_HLEN && len >= hlen + TCP_HLEN ? ip + hlen : NULL;
}

static u32_t read32(const u8_t *p)
{
    u32_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

void nl_halfopen_saw_frame(const u8_t *frame, size_t len)
{
    if (len < SIZEOF_ETH_HDR || frame[12] != 0x08 || frame[13] != 0x00)
        return;
    const u8_t *ip = frame + SIZEOF_ETH_HDR;
    const u8_t *tcp = tcp_header(ip, len - SIZEOF_ETH_HDR);
    if (tcp == NULL || (tcp[13] & (TCP_SYN | TCP_ACK)) != TCP_SYN)
        return;
    u32_t addr = read32(ip + 12);
    u16_t port = (u16_t)(tcp[0] | tcp[1] << 8);
    struct syn_source *s = slot(addr, port);
    s->addr = addr;
    s->port = port;
    memcpy(&s->mac, frame + ETH_HWADDR_LEN, ETH_HWADDR_LEN);
}

err_t nl_halfopen_output(struct netif *netif, struct pbuf *p, const ip4_addr_t *next_hop)
{
    const u8_t *tcp = tcp_header(p->payload, p->len);
    if (tcp != NULL && (tcp[13] & (TCP_SYN | TCP_ACK)) == (TCP_SYN | TCP_ACK)) {
        const u8_t *ip = p->payload;
        u32_t addr = read32(ip + 16);
        u16_t port = (u16_t)(tcp[2] | tcp[3] << 8);
        const struct syn_source *s = slot(addr, port);
        if (s->addr == addr && s->port == port && addr != 0)
            return ethernet_output(netif, p, (const struct eth_addr *)netif->hwaddr, &s->mac, ETHTYPE_IP);
    }
    return etharp_output(netif, p, next_hop);
}
