/*
 * spt.h: nabla's own minimal Solo5-ABI bindings, for testing nabla-run's
 * Solo5 spt personality. Written from the published layout
 * (tender/include/nabla_solo5.h); not Solo5's bindings. A test guest defines
 * app_main() and its manifest with SPT_MANIFEST(...).
 */
#ifndef NABLA_SPT_H
#define NABLA_SPT_H

#include <stddef.h>
#include <stdint.h>
#include "nabla_solo5.h"

/* Raw system calls: the only way an spt guest reaches the host. */
long spt_syscall6(long n, long a, long b, long c, long d, long e, long f);
#define SPT_SYS_read            0
#define SPT_SYS_write           1
#define SPT_SYS_pread64         17
#define SPT_SYS_pwrite64        18
#define SPT_SYS_arch_prctl      158
#define SPT_SYS_clock_gettime   228
#define SPT_SYS_exit_group      231
#define SPT_SYS_epoll_pwait     281
#define SPT_SYS_timerfd_settime 286

/* The boot info the tender passed, and the command line in it. */
extern const struct solo5_spt_boot_info *spt_boot;

void spt_puts(const char *s);
void spt_write(const char *buf, size_t n);
void spt_put_u64(uint64_t v);
__attribute__((noreturn)) void spt_exit(int status);
uint64_t spt_clock(int clock);             /* 1 monotonic, 0 realtime: ns */
/* Waits until `deadline_ns` (monotonic) or input on a NIC: the set of ready
 * manifest indices. */
uint64_t spt_yield(uint64_t deadline_ns);
/* The manifest entry named `name` of `type`, or -1. */
int spt_find(const char *name, uint32_t type);
const struct solo5_mft_entry *spt_entry(int index);
size_t spt_strlen(const char *s);
int spt_memcmp(const void *a, const void *b, size_t n);
void *spt_memset(void *p, int c, size_t n);
void *spt_memcpy(void *d, const void *s, size_t n);

int app_main(const char *cmdline);

/* A manifest of `count` entries; entry 0 is reserved. */
struct spt_mft_note {
    uint32_t namesz, descsz, type;
    char name[8];
    uint32_t pad;
    uint32_t version, entries;      /* struct solo5_mft, without its entries */
};
#define SPT_MANIFEST(count, ...)                                                  \
    __attribute__((section(".note.solo5.manifest"), used, aligned(8)))           \
    const struct { struct spt_mft_note h; struct solo5_mft_entry e[count]; }     \
    spt_manifest = { { 6, 4 + 8 + (count) * 104, SOLO5_NOTE_TYPE_MFT, "Solo5", 0,   \
                       SOLO5_MFT_VERSION, count },                               \
                     { { .name = "", .type = SOLO5_MFT_RESERVED_FIRST }, __VA_ARGS__ } }
#define SPT_BLOCK(n) { .name = n, .type = SOLO5_MFT_BLOCK_BASIC }
#define SPT_NET(n)   { .name = n, .type = SOLO5_MFT_NET_BASIC }

#endif
