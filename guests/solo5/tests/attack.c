/* attack: one raw system call, "NR A0 A1 A2 A3 A4 A5" from the command
 * line (decimal or 0x hex, missing ones 0), each argument also one of:
 * epoll, timer (the boot info's descriptors), storage (the disk's host fd),
 * cap (the disk's capacity), net (the NIC's host fd, in attack-net), buf
 * (a zeroed 64 KiB buffer), ones (a signal mask with every bit set).
 * Prints "returned N" if the filter let it through. The tests run it both
 * ways against each of Solo5's rules (Solo5Tests). attack-net.c is the same
 * guest with a NIC, "service", instead of the disk. */
#include "spt.h"
#ifdef ATTACK_NET
SPT_MANIFEST(2, SPT_NET("service"));
#else
SPT_MANIFEST(2, SPT_BLOCK("storage"));
#endif

static uint8_t buffer[65536] __attribute__((aligned(4096)));
static const uint64_t ones = ~(uint64_t)0;

static const struct solo5_mft_entry *device(const char *name, uint32_t type) {
    int index = spt_find(name, type);
    if (index < 0) {
        spt_puts("attack: the manifest has no ");
        spt_puts(name);
        spt_puts("\n");
        spt_exit(2);
    }
    return spt_entry(index);
}

static int word_is(const char *p, const char *word) {
    size_t n = spt_strlen(word);
    return spt_memcmp(p, word, n) == 0 && (p[n] == ' ' || p[n] == 0);
}

static long parse(const char **cursor) {
    const char *p = *cursor;
    while (*p == ' ') p++;
    long value = 0;
    if (word_is(p, "epoll")) value = spt_boot->epollfd;
    else if (word_is(p, "timer")) value = spt_boot->timerfd;
    else if (word_is(p, "storage")) value = device("storage", SOLO5_MFT_BLOCK_BASIC)->b.hostfd;
    else if (word_is(p, "cap")) value = (long)device("storage", SOLO5_MFT_BLOCK_BASIC)->u.block.capacity;
    else if (word_is(p, "net")) value = device("service", SOLO5_MFT_NET_BASIC)->b.hostfd;
    else if (word_is(p, "buf")) value = (long)buffer;
    else if (word_is(p, "ones")) value = (long)&ones;
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
