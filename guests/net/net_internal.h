/*
 * net_internal.h: what the parts of guests/net share (not for guests).
 */
#ifndef NABLA_NET_INTERNAL_H
#define NABLA_NET_INTERNAL_H

#include <nabla_net.h>

#include "lwip/netif.h"

/* One attached NIC: its lwIP netif and what the command line gave it. */
struct nl_nic {
    struct netif netif;
    int      handle;                        /* device handle */
    char     name[NABLA_DEVICE_NAME_MAX];
    uint8_t  configured;                    /* has an address */
    uint8_t  from_boot_info;                /* ... from the boot info, not --ipv4= */
    uint8_t  prefix;
    uint8_t  offload;                       /* NABLA_DEVICE_NET_OFFLOAD: virtio-net headers */
    uint32_t addr, gw;                      /* host byte order; gw 0: none */
};

extern struct nl_nic nl_nics[NABLA_MAX_DEVICES];
extern int nl_nic_count;

/* Adds the NIC of device handle h to the stack (once); NULL if it is not a NIC. */
struct nl_nic *nl_nic_for_handle(int h);
/* lwIP's init function for a NIC's netif (netif_add). */
err_t nl_netif_init(struct netif *netif);

/* Frames dropped by the driver before lwIP saw them, beyond lwip_stats:
 * unicast to another MAC (a NIC filters these in hardware, lwIP does not). */
extern uint64_t nl_othermac;

/* Half-open connections under a SYN flood (halfopen.c): the listener's
 * bound and expiry, set up by listen(); a connection leaving the half-open
 * state at accept; every received frame, for the SYNs' Ethernet sources;
 * and the netif output that sends SYN-ACKs back to them. */
struct tcp_pcb;
void nl_halfopen_listen(struct tcp_pcb *lpcb);
void nl_halfopen_accepted(struct tcp_pcb *pcb);
void nl_halfopen_saw_frame(const uint8_t *frame, size_t len);
err_t nl_halfopen_output(struct netif *netif, struct pbuf *p, const ip4_addr_t *next_hop);

#endif /* NABLA_NET_INTERNAL_H */
