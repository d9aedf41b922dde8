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
    uint8_t  prefix;
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

#endif /* NABLA_NET_INTERNAL_H */
