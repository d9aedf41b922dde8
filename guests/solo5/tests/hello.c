/* hello: the console, the command line, both clocks. */
#include "spt.h"
SPT_MANIFEST(1);

int app_main(const char *cmdline) {
    spt_puts("Hello from a Solo5 spt guest!\ncmdline: ");
    spt_puts(cmdline);
    spt_puts("\n");
    uint64_t a = spt_clock(1), b = spt_clock(1), wall = spt_clock(0);
    spt_puts(b >= a && wall > 1600000000ull * 1000000000ull ? "clocks ok\n" : "clocks wrong\n");
    spt_yield(spt_clock(1) + 1000000);  /* 1 ms on the timerfd */
    spt_puts(spt_clock(1) >= b + 1000000 ? "yield ok\n" : "yield too short\n");
    return 0;
}
