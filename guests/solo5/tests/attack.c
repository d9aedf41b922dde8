/* attack: one raw system call, "NR A0 A1 A2 A3 A4 A5" from the command
 * line (decimal or 0x hex, missing ones 0), each argument also one of:
 * epoll, timer (the boot info's descriptors), storage (the disk's host fd),
 * cap (the disk's capacity), buf (a zeroed 64 KiB buffer). Prints
 * "returned N" if the filter let it through. The tests run it both ways
 * against each of Solo5's rules (Solo5Tests). */
#include "spt.h"
SPT_MANIFEST(2, SPT_BLOCK("storage"));

static uint8_t buffer[65536] __attribute__((aligned(4096)));

static int word_is(const char *p, const char *word) {
    size_t n = spt_strlen(word);
    return spt_memcmp(p, word, n) == 0 && (p[n] == ' ' || p[n] == 0);
}

static long parse(const char **cursor) {
    const char *p = *cursor;
    while (*p == ' ') p++;
    const struct solo5_mft_entry *disk = spt_entry(spt_find("storage", SOLO5_MFT_BLOCK_BASIC));
    long value = 0;
    if (word_is(p, "epoll")) value = spt_boot->epollfd;
    else if (word_is(p, "timer")) value = spt_boot->timerfd;
    else if (word_is(p, "storage")) value = disk->b.hostfd;
    else if (word_is(p, "cap")) value = (long)disk->u.block.capacity;
    else if (word_is(p, "buf")) value = (long)buffer;
    else if (p[0] == '0' && p[1] == 'x') {
        for (p += 2; (*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f'); p++)
            value = value * 16 + (*p <= '9' ? *p - '0' : *p - 'a' + 10);
    } else {
        for (; *p >= '0' && *p <= '9'; p++) value = value * 10 + (*p - '0');
    }
    while (*p && *p != ' ') p++;
    *cursor = p;
    return value;
}

int app_main(const char *cmdline) {
    long a[7] = { 0 };
    for (int i = 0; i < 7 && *cmdline; i++) a[i] = parse(&cmdline);
    long r = spt_syscall6(a[0], a[1], a[2], a[3], a[4], a[5], a[6]);
    spt_puts("returned ");
    if (r < 0) { spt_puts("-"); r = -r; }
    spt_put_u64((uint64_t)r);
    spt_puts("\n");
    return 0;
}
