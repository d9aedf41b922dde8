/* quick: one line and exit, for the start-up benchmark (bench/solo5.sh). */
#include "spt.h"
SPT_MANIFEST(1);

int app_main(const char *cmdline) {
    (void)cmdline;
    spt_puts("Hello from a Solo5 spt guest!\n");
    return 0;
}
