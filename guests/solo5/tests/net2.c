/* net2: two NICs, "service0" (10.0.0.2) and "service1" (10.0.1.2); answers
 * 4 pings in all. */
#include "spt.h"
SPT_MANIFEST(3, SPT_NET("service0"), SPT_NET("service1"));
int spt_ping_serve(int count);

int app_main(const char *cmdline) {
    (void)cmdline;
    spt_puts("serving ping on two NICs\n");
    int r = spt_ping_serve(4);
    if (r == 0) spt_puts("net2 ok\n");
    return r;
}
