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
 *
 * Offloads (docs/abi.md, "Offloads"; docs/network-stack.md): the stack asks
 * for them in its features note. On a NIC the tender gave them to, every
 * frame starts with a virtio-net header. Out: TCP segments of up to
 * OFFLOAD_MSS bytes with NEEDS_CSUM and, past one MTU, TCPv4 segmentation,
 * which the host kernel does; the header goes in front of the frame in the
 * pbuf's own headroom (PBUF_LINK_ENCAPSULATION_HLEN), so a segment in one
 * pbuf is not copied. In: one frame of up to 64 KiB per netread (the
 * kernel's coalesced segments) into a receive buffer of the largest frame
 * (struct rx_buffer, from the heap); a frame over RX_COPY_MAX is handed to
 * lwIP in that buffer (a custom pbuf that frees it), a smaller one is
 * copied into a pbuf of its size and the buffer is read into again. lwIP
 * checks TCP and UDP checksums only when the header says the host did not
 * (neither NEEDS_CSUM nor DATA_VALID).
 */
#include "net_internal.h"
#include "nl_hooks.h"

#include "lwip/etharp.h"
#include "lwip/ip.h"
#include "lwip/prot/tcp.h"
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

/* The stack takes virtio-net headers and 64 KiB frames (see above). */
NABLA_FEATURES_NOTE_DEFINE(NABLA_FEATURE_NET_OFFLOAD);

/* The send MSS of a TSO connection: whole wire segments (44 x 1460), and
 * with every header and the virtio-net header below 65535, a pbuf's limit. */
#define OFFLOAD_MSS (44u * (NABLA_NET_MTU - IP_HLEN - TCP_HLEN))

static uint8_t tx_frame[NABLA_NET_OFFLOAD_FRAME_MAX] __attribute__((aligned(16)));
static uint8_t rx_scratch[NABLA_NET_FRAME_MAX] __attribute__((aligned(16)));

/* A receive buffer of an offload NIC: read into, then either given to lwIP
 * as the frame's pbuf (no copy) or kept for the next read. Frames up to
 * RX_COPY_MAX bytes are copied out instead, so that no frame holds more
 * than twice its size (a window of small frames would otherwise hold 64 KiB
 * each). When the heap has no room for a buffer, frames are read into
 * rx_static and copied, or dropped (link.memerr): never left unread, which
 * would keep the poll hypercall returning at once. */
#define RX_COPY_MAX 32768u
struct rx_buffer {
    struct pbuf_custom pbuf;
    uint8_t data[NABLA_NET_OFFLOAD_FRAME_MAX] __attribute__((aligned(16)));
};
static struct rx_buffer *rx_spare;
static uint8_t rx_static[NABLA_NET_OFFLOAD_FRAME_MAX] __attribute__((aligned(16)));

static void rx_buffer_free(struct pbuf *p)
{
    free((struct rx_buffer *)(void *)p);
}

/* The pseudo-header sum of a TCP/IPv4 segment, folded, not complemented:
 * what NEEDS_CSUM wants in the checksum field. */
static uint16_t pseudo_header_sum(const uint8_t *ip, uint32_t tcp_len)
{
    uint32_t sum = 0;
    for (int i = 12; i < 20; i += 2)
        sum += (uint32_t)ip[i] << 8 | ip[i + 1];
    sum += IP_PROTO_TCP + tcp_len;
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)sum;
}

/* Fills the virtio-net header of an outgoing frame: a TCP/IPv4 segment gets
 * NEEDS_CSUM (its checksum field the pseudo-header sum) and, if its payload
 * is over one MTU's, TCPv4 segmentation in pieces that fit the MTU; any
 * other frame carries its own checksums (lwIP made them). */
static void offload_header(struct nabla_net_vnet_header *h, uint8_t *frame, size_t len)
{
    memset(h, 0, sizeof *h);
    if (len < SIZEOF_ETH_HDR + IP_HLEN + TCP_HLEN || frame[12] != 0x08 || frame[13] != 0x00)
        return;
    uint8_t *ip = frame + SIZEOF_ETH_HDR;
    size_t ihl = (size_t)(ip[0] & 0x0f) * 4;
    size_t total = (size_t)ip[2] << 8 | ip[3];
    if (ip[9] != IP_PROTO_TCP || total > len - SIZEOF_ETH_HDR || ihl < IP_HLEN || total < ihl + TCP_HLEN)
        return;
    uint8_t *tcp = ip + ihl;
    size_t thl = (size_t)(tcp[12] >> 4) * 4;
    if (thl < TCP_HLEN || total < ihl + thl)
        return;
    uint16_t sum = pseudo_header_sum(ip, (uint32_t)(total - ihl));
    tcp[16] = (uint8_t)(sum >> 8);
    tcp[17] = (uint8_t)sum;
    h->flags = NABLA_NET_F_NEEDS_CSUM;
    h->csum_start = (uint16_t)(SIZEOF_ETH_HDR + ihl);
    h->csum_offset = 16;
    size_t segment = NABLA_NET_MTU - ihl - thl;
    if (total - ihl - thl > segment) {
        h->gso_type = NABLA_NET_GSO_TCPV4;
        h->gso_size = (uint16_t)segment;
        h->hdr_len = (uint16_t)(SIZEOF_ETH_HDR + ihl + thl);
    }
}

void nl_offload_segment_size(struct tcp_pcb *pcb)
{
    /* Once established, only if the peer takes full-MTU segments (the host
     * cuts ours into segments of exactly that size), and only once the
     * congestion window holds a whole TSO segment: lwIP sends no segment
     * larger than the window, so a 64 KiB segment queued behind a window
     * of three wire segments would wait for ACKs that never come. The
     * window grows in slow start by the bytes acknowledged, as on the wire;
     * after a loss lwIP keeps it at one segment or more. */
    struct netif *in = ip_current_input_netif();
    if (pcb->state != ESTABLISHED || in == NULL || !((struct nl_nic *)in->state)->offload)
        return;
    if (pcb->mss == in->mtu - IP_HLEN - TCP_HLEN && pcb->cwnd >= OFFLOAD_MSS)
        pcb->mss = OFFLOAD_MSS;
}

u32_t sys_now(void)
{
    return (u32_t)(nabla_clock_monotonic() / 1000000u);
}

/* Sends a frame with its virtio-net header: in place when the frame is one
 * pbuf with headroom for the header, else through tx_frame. */
static err_t offload_output(struct nl_nic *nic, struct pbuf *p)
{
    size_t len = p->tot_len;
    int64_t r;
    if (len > NABLA_NET_OFFLOAD_FRAME_MAX - NABLA_NET_VNET_HEADER) {
        LINK_STATS_INC(link.lenerr);
        return ERR_IF;
    }
    if (p->next == NULL && len >= ETH_MIN_FRAME && pbuf_add_header(p, NABLA_NET_VNET_HEADER) == 0) {
        struct nabla_net_vnet_header h;
        offload_header(&h, (uint8_t *)p->payload + NABLA_NET_VNET_HEADER, len);
        memcpy(p->payload, &h, sizeof h);
        r = nabla_net_write(nic->handle, p->payload, len + NABLA_NET_VNET_HEADER);
        pbuf_remove_header(p, NABLA_NET_VNET_HEADER);
    } else {
        uint8_t *frame = tx_frame + NABLA_NET_VNET_HEADER;
        pbuf_copy_partial(p, frame, (u16_t)len, 0);
        if (len < ETH_MIN_FRAME) {
            memset(frame + len, 0, ETH_MIN_FRAME - len);
            len = ETH_MIN_FRAME;
        }
        struct nabla_net_vnet_header h;
        offload_header(&h, frame, len);
        memcpy(tx_frame, &h, sizeof h);
        r = nabla_net_write(nic->handle, tx_frame, len + NABLA_NET_VNET_HEADER);
    }
    if (r < 0) {
        LINK_STATS_INC(link.err);
        LINK_STATS_INC(link.drop);
        return ERR_OK;
    }
    LINK_STATS_INC(link.xmit);
    MIB2_STATS_NETIF_ADD(&nic->netif, ifoutoctets, len);
    return ERR_OK;
}

static err_t link_output(struct netif *netif, struct pbuf *p)
{
    struct nl_nic *nic = netif->state;
    if (nic->offload)
        return offload_output(nic, p);
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
    nic->offload = (d->flags & NABLA_DEVICE_NET_OFFLOAD) != 0;
    /* With offloads the host makes TCP checksums; checks: see offload_drain. */
    NETIF_SET_CHECKSUM_CTRL(netif, nic->offload ? NETIF_CHECKSUM_ENABLE_ALL & ~NETIF_CHECKSUM_GEN_TCP
                                                : NETIF_CHECKSUM_ENABLE_ALL);
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

/* drain for a NIC with offloads: one frame of up to 64 KiB at a time into
 * the spare receive buffer (see the header comment). */
static int64_t offload_drain(struct nl_nic *nic)
{
    const u16_t trusted = NETIF_CHECKSUM_ENABLE_ALL & ~NETIF_CHECKSUM_GEN_TCP
                          & ~NETIF_CHECKSUM_CHECK_TCP & ~NETIF_CHECKSUM_CHECK_UDP;
    const u16_t checked = NETIF_CHECKSUM_ENABLE_ALL & ~NETIF_CHECKSUM_GEN_TCP;
    int64_t frames = 0;
    while (frames < DRAIN_MAX) {
        if (rx_spare == NULL)
            rx_spare = malloc(sizeof *rx_spare);
        uint8_t *rx_big = rx_spare != NULL ? rx_spare->data : rx_static;
        int64_t got = nabla_net_read(nic->handle, rx_big, sizeof rx_static);
        if (got == NABLA_EAGAIN)
            return frames;
        if (got < 0)
            return got;
        frames++;
        LINK_STATS_INC(link.recv);
        if ((uint64_t)got > sizeof rx_static || got < (int64_t)NABLA_NET_VNET_HEADER) {
            LINK_STATS_INC(link.lenerr);
            LINK_STATS_INC(link.drop);
            continue;
        }
        struct nabla_net_vnet_header h;
        memcpy(&h, rx_big, sizeof h);
        uint8_t *frame = rx_big + NABLA_NET_VNET_HEADER;
        size_t len = (size_t)got - NABLA_NET_VNET_HEADER;
        MIB2_STATS_NETIF_ADD(&nic->netif, ifinoctets, len);
        if (!acceptable(nic, frame, len))
            continue;
        nl_halfopen_saw_frame(frame, len);
        /* A frame over 64 KiB holds an IPv4 packet of up to 65535 bytes:
         * lwIP's pbufs hold no more, so the Ethernet header stays behind. */
        int ip_only = len > 0xffff;
        if (ip_only && (frame[12] != 0x08 || frame[13] != 0x00)) {
            LINK_STATS_INC(link.lenerr);
            LINK_STATS_INC(link.drop);
            continue;
        }
        size_t skip = ip_only ? SIZEOF_ETH_HDR : 0;
        struct pbuf *p;
        if (len - skip > RX_COPY_MAX && rx_spare != NULL) {
            rx_spare->pbuf.custom_free_function = rx_buffer_free;
            p = pbuf_alloced_custom(PBUF_RAW, (u16_t)(len - skip), PBUF_REF, &rx_spare->pbuf,
                                    frame + skip, (u16_t)(len - skip));
            rx_spare = NULL;
        } else if ((p = pbuf_alloc(PBUF_RAW, (u16_t)(len - skip),
                                   len - skip <= PBUF_POOL_BUFSIZE ? PBUF_POOL : PBUF_RAM)) != NULL) {
            /* A frame of one MTU into one pool buffer, as without offloads. */
            MEMCPY(p->payload, frame + skip, len - skip);
        } else {
            LINK_STATS_INC(link.memerr);
            LINK_STATS_INC(link.drop);
            continue;
        }
        NETIF_SET_CHECKSUM_CTRL(&nic->netif, h.flags & (NABLA_NET_F_NEEDS_CSUM | NABLA_NET_F_DATA_VALID) ? trusted : checked);
        err_t e = ip_only ? ip4_input(p, &nic->netif) : nic->netif.input(p, &nic->netif);
        NETIF_SET_CHECKSUM_CTRL(&nic->netif, checked);
        if (e != ERR_OK)
            pbuf_free(p);
    }
    return frames;
}

/* Reads and processes up to DRAIN_MAX frames of one NIC. */
static int64_t drain(struct nl_nic *nic)
{
    if (nic->offload)
        return offload_drain(nic);
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
