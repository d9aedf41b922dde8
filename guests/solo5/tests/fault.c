/* fault: a store below guest memory (SIGSEGV, status 139), or with
 * "abort", Solo5's abort status 255, or with a number, that exit status. */
#include "spt.h"
SPT_MANIFEST(1);

int app_main(const char *cmdline) {
    if (spt_memcmp(cmdline, "abort", 6) == 0) spt_exit(255);
    if (spt_memcmp(cmdline, "sleep", 6) == 0) for (;;) spt_yield(spt_clock(1) + 3600000000000ull);
    if (cmdline[0] >= '0' && cmdline[0] <= '9') {
        int status = 0;
        for (const char *p = cmdline; *p >= '0' && *p <= '9'; p++) status = status * 10 + (*p - '0');
        return status;
    }
    spt_puts("faulting\n");
    *(volatile int *)0x1000 = 1;
    return 0;
}
