/*
 * nl_hooks.h: the lwIP hooks guests/net implements (LWIP_HOOK_FILENAME in
 * lwipopts.h); lwIP includes it where it calls them.
 */
#ifndef NL_HOOKS_H
#define NL_HOOKS_H

struct tcp_pcb;
void nl_offload_segment_size(struct tcp_pcb *pcb);

/* Every incoming TCP segment, before lwIP processes it: on a NIC with
 * offloads, an established connection's segments grow to TSO size
 * (netif.c). Never refuses a segment. */
#define LWIP_HOOK_TCP_INPACKET_PCB(pcb, hdr, optlen, opt1len, opt2, p) \
    (nl_offload_segment_size((struct tcp_pcb *)(pcb)), ERR_OK)

#endif /* NL_HOOKS_H */
