/* net: answers ARP and pings for 10.0.0.2 on NIC "service": 3, or as many
 * as the command line says (bench/solo5.sh floods it). */
#include "spt.h"
SPT_MANIFEST(2, SPT_NET("service"));
int spt_ping_serve(int count);

int app_main(const char *cmdline) {
    int count = 0;
    for (const char *p = cmdline; *p >= '0' && *p <= '9'; p++) count = count * 10 + (*p - '0');
    spt_puts("serving ping\n");
    int r = spt_ping_serve(count > 0 ? count : 3);
    if (r == 0) spt_puts("net ok\n");
    return r;
}
