/* net: answers ARP and 3 pings for 10.0.0.2 on NIC "service". */
#include "spt.h"
SPT_MANIFEST(2, SPT_NET("service"));
int spt_ping_serve(int count);

int app_main(const char *cmdline) {
    (void)cmdline;
    spt_puts("serving ping\n");
    int r = spt_ping_serve(3);
    if (r == 0) spt_puts("net ok\n");
    return r;
}
