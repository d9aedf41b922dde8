/*
 * lwipopts.h: how lwIP is configured for nabla guests (docs/network-stack.md
 * says why for each group).
 *
 * One thread, no OS: NO_SYS with the raw (callback) API. guests/net runs
 * lwIP's timers from its main loop and implements the socket API on top.
 */
#ifndef NABLA_LWIPOPTS_H
#define NABLA_LWIPOPTS_H

/* ---- System ------------------------------------------------------------- */
#define NO_SYS                  1
#define SYS_LIGHTWEIGHT_PROT    0       /* one thread, no interrupts */
#define LWIP_TIMERS             1
#define LWIP_NETCONN            0
#define LWIP_SOCKET             0       /* guests/net has its own socket layer */
#define LWIP_RAW                0
#define LWIP_DONT_PROVIDE_BYTEORDER_FUNCTIONS 1   /* <netinet/in.h> has htons */
#define LWIP_SINGLE_NETIF       0       /* one netif per attached NIC */
#define LWIP_NETIF_LOOPBACK     0
#define LWIP_HAVE_LOOPIF        0

/* ---- Memory ---------------------------------------------------------------
 * The heap (PBUF_RAM: data being sent) is the library OS's malloc, so the
 * guest's heap statistics show it. Pools are static arrays. */
#define MEM_LIBC_MALLOC         1
#define MEM_ALIGNMENT           8
#define MEMP_MEM_MALLOC         0
#define MEMP_NUM_TCP_PCB        256     /* connections (TIME_WAIT included) */
#define MEMP_NUM_TCP_PCB_LISTEN 8
#define MEMP_NUM_UDP_PCB        8
#define MEMP_NUM_TCP_SEG        8192    /* queued segments, all connections */
#define MEMP_NUM_PBUF           256     /* pbufs referring to memory we own */
#define MEMP_NUM_SYS_TIMEOUT    (LWIP_NUM_SYS_TIMEOUT_INTERNAL + 4)    /* halfopen.c's timer among them */
/* Received frames: one pool buffer holds a whole frame (netread wants room
 * for 1514 bytes), so the driver reads straight into it. Pools are linked
 * at start-up, touching every page: their size is start-up time. */
#define PBUF_POOL_SIZE          256
#define PBUF_POOL_BUFSIZE       1536
/* Room in front of every frame lwIP builds for the virtio-net header of a
 * NIC with offloads (netif.c), so that the header costs no copy. */
#define PBUF_LINK_ENCAPSULATION_HLEN 10
/* Received offload frames over 8 KiB stay in the buffer they were read
 * into, as custom pbufs (netif.c). */
#define LWIP_SUPPORT_CUSTOM_PBUF 1

/* ---- IPv4, ARP, ICMP, UDP --------------------------------------------------- */
#define LWIP_IPV4               1
#define LWIP_IPV6               0
#define LWIP_ARP                1
#define LWIP_ETHERNET           1
#define ARP_QUEUEING            1
#define ARP_TABLE_SIZE          32
#define ETHARP_SUPPORT_STATIC_ENTRIES 0
#define IP_FORWARD              0
#define IP_OPTIONS_ALLOWED      0       /* dropped and counted (ip.opterr) */
#define IP_REASSEMBLY           0       /* fragments dropped (ip.opterr) */
#define IP_FRAG                 0       /* we never send datagrams over the MTU */
#define IP_DEFAULT_TTL          64
#define LWIP_ICMP               1
#define LWIP_BROADCAST_PING     0
#define LWIP_MULTICAST_PING     0
#define LWIP_UDP                1
#define IP_SOF_BROADCAST        1       /* SO_BROADCAST to send to a broadcast address */
#define IP_SOF_BROADCAST_RECV   1       /* ... and to receive broadcast datagrams */
#define LWIP_DHCP               0
#define LWIP_AUTOIP             0
#define LWIP_IGMP               0
#define LWIP_DNS                0

/* ---- TCP ---------------------------------------------------------------------
 * Window scaling with a 256 KiB receive window and a 128 KiB send buffer
 * per connection: at 10 Gbit/s and 0.1 ms of round trip 128 KiB are in
 * flight; 64 connections' full send buffers (about 90 segments each) fit
 * in MEMP_NUM_TCP_SEG. docs/network-stack.md has the measurements. */
#define LWIP_TCP                1
#define TCP_MSS                 1460
#define LWIP_WND_SCALE          1
#define TCP_RCV_SCALE           4
#define TCP_WND                 (256 * 1024)
#define TCP_SND_BUF             (128 * 1024)
#define TCP_SND_QUEUELEN        ((4 * TCP_SND_BUF + TCP_MSS - 1) / TCP_MSS)
#define TCP_SNDLOWAT            (32 * 1024)     /* a u16_t in lwIP */
#define TCP_SNDQUEUELOWAT       (TCP_SND_QUEUELEN / 2)
#define TCP_OVERSIZE            TCP_MSS
#define TCP_QUEUE_OOSEQ         1
#define TCP_LISTEN_BACKLOG      1
#define TCP_DEFAULT_LISTEN_BACKLOG 255
#define LWIP_TCP_SACK_OUT       0
#define LWIP_TCP_KEEPALIVE      0
#define SO_REUSE                1       /* SO_REUSEADDR */
#define LWIP_CALLBACK_API       1
#define LWIP_TCP_PCB_NUM_EXT_ARGS 1     /* halfopen.c's listener callback */

/* ---- Checksums -----------------------------------------------------------------
 * In software on a NIC without offloads. On one with offloads (netif.c) the
 * host fills in TCP checksums (NEEDS_CSUM) and lwIP checks TCP and UDP
 * checksums only for frames the host has not vouched for: the netif's
 * flags are switched per frame. */
#define LWIP_CHECKSUM_CTRL_PER_NETIF 1
#define CHECKSUM_GEN_IP         1
#define CHECKSUM_GEN_UDP        1
#define CHECKSUM_GEN_TCP        1
#define CHECKSUM_GEN_ICMP       1
#define CHECKSUM_CHECK_IP       1
#define CHECKSUM_CHECK_UDP      1
#define CHECKSUM_CHECK_TCP      1
#define CHECKSUM_CHECK_ICMP     1
/* Off: with it, tcp_write sums every byte it queues, also for a NIC whose
 * host makes the checksums; without, lwIP sums a segment when it sends it
 * on a NIC that needs it, which costs the same there. */
#define LWIP_CHECKSUM_ON_COPY   0

/* ---- Hooks: TSO's segment size (nl_hooks.h) ---------------------------------- */
#define LWIP_HOOK_FILENAME      "nl_hooks.h"

/* ---- Statistics: lwip_stats is what the guests print ------------------------- */
#define LWIP_STATS              1
#define LWIP_STATS_DISPLAY      0
#define LWIP_STATS_LARGE        1       /* 32-bit counters */
#define LINK_STATS              1
#define ETHARP_STATS            1
#define IP_STATS                1
#define ICMP_STATS              1
#define UDP_STATS               1
#define TCP_STATS               1
#define MEM_STATS               1
#define MEMP_STATS              1
#define SYS_STATS               0
#define MIB2_STATS              1       /* ipinaddrerrors, icmpoutechoreps, ... */

/* ---- Debugging: off; LWIP_DEBUG would print through printf ------------------- */
#define LWIP_DBG_TYPES_ON       LWIP_DBG_OFF

#endif /* NABLA_LWIPOPTS_H */
