/*
 * idle: an idle Solo5 spt guest, for the density benchmark with solo5-spt
 * (bench/density.sh, SOLO5_SPT): the Solo5 twin of guests/idle.
 *
 *   idle UNTIL_NS     waits in epoll (through the tender's timerfd) until the
 *                     wall clock reaches UNTIL_NS (nanoseconds since the
 *                     Unix epoch), then exits 0
 *
 * Status 2 for a bad argument.
 */
#include "spt.h"
SPT_MANIFEST(1);

int app_main(const char *cmdline) {
    uint64_t until = 0;
    const char *p = cmdline;
    if (*p < '0' || *p > '9') {
        spt_puts("usage: idle UNTIL_NS (a wall-clock deadline in ns since the epoch)\n");
        return 2;
    }
    for (; *p >= '0' && *p <= '9'; p++) {
        if (until > (UINT64_MAX - 9) / 10) return 2;
        until = until * 10 + (uint64_t)(*p - '0');
    }
    if (*p != '\0') {
        spt_puts("usage: idle UNTIL_NS (a wall-clock deadline in ns since the epoch)\n");
        return 2;
    }
    for (uint64_t now = spt_clock(0); now < until; now = spt_clock(0))
        spt_yield(spt_clock(1) + (until - now));
    return 0;
}
