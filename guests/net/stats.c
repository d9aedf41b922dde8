/*
 * stats.c: lwIP's counters (lwip_stats) as one line.
 */
#include "net_internal.h"

#include "lwip/stats.h"

#define U(x) ((unsigned long long)(x))

int nabla_net_format_stats(char *buf, size_t size)
{
    const struct stats_proto *l = &lwip_stats.link, *a = &lwip_stats.etharp, *ip = &lwip_stats.ip,
                             *ic = &lwip_stats.icmp, *u = &lwip_stats.udp, *t = &lwip_stats.tcp;
    const struct stats_mib2 *m = &lwip_stats.mib2;
    return snprintf(buf, size,
        "stats: link.recv=%llu link.xmit=%llu link.drop=%llu link.lenerr=%llu link.memerr=%llu "
        "link.err=%llu link.othermac=%llu "
        "etharp.recv=%llu etharp.xmit=%llu etharp.drop=%llu etharp.proterr=%llu etharp.lenerr=%llu "
        "ip.recv=%llu ip.xmit=%llu ip.drop=%llu ip.lenerr=%llu ip.chkerr=%llu ip.opterr=%llu "
        "ip.proterr=%llu ip.err=%llu ip.addrerr=%llu "
        "icmp.recv=%llu icmp.xmit=%llu icmp.drop=%llu icmp.chkerr=%llu icmp.echoreps=%llu "
        "udp.recv=%llu udp.xmit=%llu udp.drop=%llu udp.chkerr=%llu udp.lenerr=%llu udp.noport=%llu "
        "tcp.recv=%llu tcp.xmit=%llu tcp.drop=%llu tcp.chkerr=%llu tcp.lenerr=%llu tcp.proterr=%llu "
        "tcp.rexmit=%llu tcp.memerr=%llu tcp.resets=%llu",
        U(l->recv), U(l->xmit), U(l->drop), U(l->lenerr), U(l->memerr), U(l->err), U(nl_othermac),
        U(a->recv), U(a->xmit), U(a->drop), U(a->proterr), U(a->lenerr),
        U(ip->recv), U(ip->xmit), U(ip->drop), U(ip->lenerr), U(ip->chkerr), U(ip->opterr),
        U(ip->proterr), U(ip->err), U(m->ipinaddrerrors),
        U(ic->recv), U(ic->xmit), U(ic->drop), U(ic->chkerr), U(m->icmpoutechoreps),
        U(u->recv), U(u->xmit), U(u->drop), U(u->chkerr), U(u->lenerr), U(m->udpnoports),
        U(t->recv), U(t->xmit), U(t->drop), U(t->chkerr), U(t->lenerr), U(t->proterr),
        U(m->tcpretranssegs), U(t->memerr), U(m->tcpoutrsts));
}
