/* ping.c: answers ARP and ICMP echo for 10.0.N.2 on each NIC N of the
 * manifest, until `count` echo requests were answered in all. */
#include "spt.h"

static uint16_t csum(const uint8_t *p, size_t n) {
    uint32_t s = 0;
    for (size_t i = 0; i + 1 < n; i += 2) s += (uint32_t)(p[i] << 8 | p[i + 1]);
    if (n & 1) s += (uint32_t)(p[n - 1] << 8);
    while (s >> 16) s = (s & 0xffff) + (s >> 16);
    return (uint16_t)~s;
}

int spt_ping_serve(int count) {
    const struct solo5_mft *m = (const struct solo5_mft *)spt_boot->mft;
    static uint8_t f[2048];
    int answered = 0, nic = 0;
    int ip_of[64] = { 0 };
    for (uint32_t i = 0; i < m->entries; i++) if (m->e[i].type == SOLO5_MFT_NET_BASIC) ip_of[i] = nic++;
    while (answered < count) {
        uint64_t ready = spt_yield(spt_clock(1) + 30000000000ull);
        if (!ready) return 20;  /* 30 s without a frame */
        for (uint32_t i = 0; i < m->entries; i++) {
            if (!(ready & (1ull << i))) continue;
            const struct solo5_mft_entry *e = &m->e[i];
            const uint8_t *mac = e->u.net.mac;
            uint8_t ip[4] = { 10, 0, (uint8_t)ip_of[i], 2 };
            for (;;) {
                long n = spt_syscall6(SPT_SYS_read, e->b.hostfd, (long)f, (long)(e->u.net.mtu + 14), 0, 0, 0);
                if (n < 0) break;
                if (n >= 42 && f[12] == 0x08 && f[13] == 0x06 && f[21] == 1 && spt_memcmp(f + 38, ip, 4) == 0) {
                    spt_memcpy(f, f + 6, 6); spt_memcpy(f + 6, mac, 6);
                    f[21] = 2;
                    uint8_t sender[10]; spt_memcpy(sender, f + 22, 10);
                    spt_memcpy(f + 22, mac, 6); spt_memcpy(f + 28, ip, 4);
                    spt_memcpy(f + 32, sender, 10);
                    spt_syscall6(SPT_SYS_write, e->b.hostfd, (long)f, 42, 0, 0, 0);
                } else if (n >= 42 && f[12] == 0x08 && f[13] == 0x00 && f[23] == 1 && f[34] == 8 && spt_memcmp(f + 30, ip, 4) == 0) {
                    size_t ihl = (size_t)(f[14] & 15) * 4, total = (size_t)(f[16] << 8 | f[17]);
                    if (14 + total > (size_t)n || ihl != 20) continue;
                    spt_memcpy(f, f + 6, 6); spt_memcpy(f + 6, mac, 6);
                    uint8_t t[4]; spt_memcpy(t, f + 26, 4); spt_memcpy(f + 26, f + 30, 4); spt_memcpy(f + 30, t, 4);
                    f[24] = f[25] = 0;
                    uint16_t c = csum(f + 14, 20); f[24] = (uint8_t)(c >> 8); f[25] = (uint8_t)c;
                    f[34] = 0; f[36] = f[37] = 0;
                    c = csum(f + 34, total - 20); f[36] = (uint8_t)(c >> 8); f[37] = (uint8_t)c;
                    spt_syscall6(SPT_SYS_write, e->b.hostfd, (long)f, (long)(14 + total), 0, 0, 0);
                    answered++;
                }
            }
        }
    }
    return 0;
}
