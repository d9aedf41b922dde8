/*
 * netif.c: the lwIP network interface over the net hypercalls, sys_now, and
 * the main loop.
 *
 * Frames are read straight into pool pbufs (PBUF_POOL_BUFSIZE holds a whole
 * frame, as netread requires) and handed to lwIP's ethernet_input, after
 * the checks a NIC or lwIP would otherwise miss: a frame shorter than the
 * Ethernet header (link.lenerr), unicast to another MAC (link.drop; a
 * hardware NIC filters these, lwIP does not look), and a UDP length field
 * longer than the IP payload (udp.lenerr; lwIP 2.1 trusts the IP length).
 */
#include "net_internal.h"

#include "lwip/etharp.h"
#include "lwip/ip4.h"
#include "lwip/pbuf.h"
#include "lwip/prot/ethernet.h"
#include "lwip/prot/ip4.h"
#include "lwip/prot/udp.h"
#include "lwip/prot/ip.h"
#include "lwip/snmp.h"
#include "lwip/stats.h"
#include "lwip/sys.h"
#include "lwip/tcp.h"
#include "lwip/timeouts.h"
#include "lwip/priv/tcp_priv.h"

#define DRAIN_MAX 256               /* frames per NIC per round: fairness */
#define ETH_MIN_FRAME 60            /* without FCS */

uint64_t nl_othermac;

static uint8_t tx_frame[NABLA_NET_FRAME_MAX] __attribute__((aligned(16)));
static uint8_t rx_scratch[NABLA_NET_FRAME_MAX] __attribute__((aligned(16)));

u32_t sys_now(void)
{
    return (u32_t)(nabla_clock_monotonic() / 1000000u);
}

static err_t link_output(struct netif *netif, struct pbuf *p)
{
    struct nl_nic *nic = netif->state;
    const void *frame;
    size_t len = p->tot_len;
    if (len > NABLA_NET_FRAME_MAX) {
        LINK_STATS_INC(link.lenerr);
        return ERR_IF;
    }
    if (p->next == NULL && len >= ETH_MIN_FRAME) {
        frame = p->payload;             /* one buffer: no copy */
    } else {
        pbuf_copy_partial(p, tx_frame, (u16_t)len, 0);
        if (len < ETH_MIN_FRAME) {
            memset(tx_frame + len, 0, ETH_MIN_FRAME - len);
            len = ETH_MIN_FRAME;
        }
        frame = tx_frame;
    }
    if (nabla_net_write(nic->handle, frame, len) < 0) {
        /* The host's queue is full or it failed: dropped as on a busy
         * wire; TCP retransmits. */
        LINK_STATS_INC(link.err);
        LINK_STATS_INC(link.drop);
        return ERR_OK;
    }
    LINK_STATS_INC(link.xmit);
    MIB2_STATS_NETIF_ADD(netif, ifoutoctets, len);
    return ERR_OK;
}

err_t nl_netif_init(struct netif *netif)
{
    struct nl_nic *nic = netif->state;
    const struct nabla_device *d = nabla_device(nic->handle);
    netif->name[0] = 'e';
    netif->name[1] = 'n';
    netif->hwaddr_len = ETH_HWADDR_LEN;
    memcpy(netif->hwaddr, d->u.net.mac, ETH_HWADDR_LEN);
    netif->mtu = (u16_t)d->u.net.mtu;
    netif->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP | NETIF_FLAG_ETHERNET;
    netif->output = nl_halfopen_output;     /* etharp_output but for SYN-ACKs */
    netif->linkoutput = link_output;
    MIB2_INIT_NETIF(netif, snmp_ifType_ethernet_csmacd, 0);
    return ERR_OK;
}

/* The checks before lwIP (see the header comment). 1: hand it on. */
static int acceptable(struct nl_nic *nic, const uint8_t *f, size_t len)
{
    if (len < SIZEOF_ETH_HDR) {
        LINK_STATS_INC(link.lenerr);
        LINK_STATS_INC(link.drop);
        return 0;
    }
    if (!(f[0] & 1) && memcmp(f, nic->netif.hwaddr, ETH_HWADDR_LEN) != 0) {
        nl_othermac++;
        LINK_STATS_INC(link.drop);
        return 0;
    }
    /* IPv4 + UDP with a sane IP header: the UDP length field must fit. */
    if (len >= SIZEOF_ETH_HDR + IP_HLEN + UDP_HLEN && f[12] == 0x08 && f[13] == 0x00) {
        const uint8_t *ip = f + SIZEOF_ETH_HDR;
        size_t hlen = (size_t)(ip[0] & 0x0f) * 4;
        size_t total = (size_t)ip[2] << 8 | ip[3];
        if (ip[9] == IP_PROTO_UDP && (ip[0] >> 4) == 4 && hlen >= IP_HLEN &&
            total <= len - SIZEOF_ETH_HDR && total >= hlen + UDP_HLEN) {
            const uint8_t *u = ip + hlen;
            size_t ulen = (size_t)u[4] << 8 | u[5];
            if (ulen < UDP_HLEN || ulen > total - hlen) {
                UDP_STATS_INC(udp.lenerr);
                UDP_STATS_INC(udp.drop);
                return 0;
            }
        }
    }
    return 1;
}

/* Reads and processes up to DRAIN_MAX frames of one NIC. */
static int64_t drain(struct nl_nic *nic)
{
    int64_t frames = 0;
    while (frames < DRAIN_MAX) {
        struct pbuf *p = pbuf_alloc(PBUF_RAW, PBUF_POOL_BUFSIZE, PBUF_POOL);
        int64_t got;
        if (p == NULL || p->next != NULL) {
            /* Out of pool buffers: read into scratch and drop, or the NIC
             * would keep the poll hypercall returning at once. */
            if (p != NULL)
                pbuf_free(p);
            got = nabla_net_read(nic->handle, rx_scratch, sizeof rx_scratch);
            if (got == NABLA_EAGAIN)
                return frames;
            if (got < 0)
                return got;
            frames++;
            LINK_STATS_INC(link.recv);
            LINK_STATS_INC(link.memerr);
            LINK_STATS_INC(link.drop);
            continue;
        }
        got = nabla_net_read(nic->handle, p->payload, p->len);
        if (got == NABLA_EAGAIN || got < 0) {
            pbuf_free(p);
            return got == NABLA_EAGAIN ? frames : got;
        }
        frames++;
        LINK_STATS_INC(link.recv);
        if ((uint64_t)got > p->len)     /* cannot happen: never trust it */
            got = p->len;
        MIB2_STATS_NETIF_ADD(&nic->netif, ifinoctets, got);
        if (!acceptable(nic, p->payload, (size_t)got)) {
            pbuf_free(p);
            continue;
        }
        nl_halfopen_saw_frame(p->payload, (size_t)got);
        pbuf_realloc(p, (u16_t)got);
        if (nic->netif.input(p, &nic->netif) != ERR_OK)
            pbuf_free(p);
    }
    return frames;
}

static int64_t drain_all(uint64_t ready, int only_ready)
{
    int64_t frames = 0;
    for (int i = 0; i < nl_nic_count; i++) {
        struct nl_nic *nic = &nl_nics[i];
        if (only_ready && (nic->handle >= 64 || !(ready & (1ull << nic->handle))))
            continue;
        int64_t r = drain(nic);
        if (r < 0)
            return r;
        frames += r;
    }
    return frames;
}

int64_t nabla_net_wait(uint64_t deadline_ns)
{
    sys_check_timeouts();
    /* Frames already waiting cost no poll hypercall. */
    int64_t frames = drain_all(0, 0);
    if (frames != 0) {
        sys_check_timeouts();
        return frames;
    }
    uint64_t now = nabla_clock_monotonic();
    uint64_t timeout = deadline_ns > now ? deadline_ns - now : 0;
    u32_t timer_ms = sys_timeouts_sleeptime();
    if (timer_ms != SYS_TIMEOUTS_SLEEPTIME_INFINITE && (uint64_t)timer_ms * 1000000u < timeout)
        timeout = (uint64_t)timer_ms * 1000000u;
    if (timeout > 1000000000u)
        timeout = 1000000000u;          /* a stop flag is seen within 1 s */
    if (timeout == 0)
        return 0;
    uint64_t ready = 0;
    int64_t r = nabla_poll(timeout, &ready);
    if (r < 0)
        return r;
    frames = r > 0 ? drain_all(ready, 1) : 0;
    sys_check_timeouts();
    return frames;
}

int nabla_net_run(const char *program, volatile int *stop)
{
    while (!*stop) {
        int64_t r = nabla_net_wait(UINT64_MAX);
        if (r < 0) {
            printf("%s: network hypercall failed: %lld\n", program, (long long)r);
            return 1;
        }
    }
    return 0;
}

/* True while some TCP connection still has data to send or acknowledge, or
 * is between its FIN and the peer's answer. */
static int tcp_busy(void)
{
    for (struct tcp_pcb *pcb = tcp_active_pcbs; pcb != NULL; pcb = pcb->next) {
        if (pcb->unsent != NULL || pcb->unacked != NULL)
            return 1;
        if (pcb->state == FIN_WAIT_1 || pcb->state == CLOSING || pcb->state == LAST_ACK)
            return 1;
    }
    return 0;
}

int nabla_net_flush(uint64_t timeout_ms)
{
    uint64_t deadline = nabla_clock_monotonic() + timeout_ms * 1000000u;
    while (tcp_busy()) {
        if (nabla_clock_monotonic() >= deadline)
            return 1;
        int64_t r = nabla_net_wait(deadline);
        if (r < 0)
            return (int)r;
    }
    return 0;
}
