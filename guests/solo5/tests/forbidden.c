/* forbidden: getpid, which Solo5's policy does not allow (159), or with
 * "write2", a write to fd 2 (only the tender's own buffer may go there). */
#include "spt.h"
SPT_MANIFEST(1);

int app_main(const char *cmdline) {
    spt_puts("making a forbidden system call\n");
    if (spt_memcmp(cmdline, "write2", 7) == 0) spt_syscall6(SPT_SYS_write, 2, (long)"x\n", 2, 0, 0, 0);
    else spt_syscall6(39 /* getpid */, 0, 0, 0, 0, 0, 0);
    return 0;
}
