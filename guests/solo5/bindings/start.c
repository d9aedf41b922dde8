/* start.c: entry, TLS, console, clocks, yield, exit for nabla's Solo5-ABI
 * test bindings. Every host call is a raw system call. */
#include "spt.h"

const struct solo5_spt_boot_info *spt_boot;

/* The ABI note: Solo5 spt, ABI version 2. */
__attribute__((section(".note.solo5.abi"), used, aligned(4)))
const struct { uint32_t namesz, descsz, type; char name[8]; struct solo5_abi_info info; } spt_abi_note = {
    6, sizeof(struct solo5_abi_info), SOLO5_NOTE_TYPE_ABI, "Solo5", { SOLO5_TARGET_SPT, SOLO5_SPT_ABI_VERSION, { 0, 0 } }
};

long spt_syscall6(long n, long a, long b, long c, long d, long e, long f) {
    long r;
    register long r10 __asm__("r10") = d;
    register long r8 __asm__("r8") = e;
    register long r9 __asm__("r9") = f;
    __asm__ volatile("syscall" : "=a"(r) : "0"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
                     : "rcx", "r11", "memory");
    return r;
}

/* A TLS block of our own, as Solo5's bindings set one up: FS points at a
 * self-pointer (the x86_64 TCB convention). */
static uint64_t tls_block[32] __attribute__((aligned(64)));

__attribute__((noreturn)) void spt_exit(int status) {
    for (;;) spt_syscall6(SPT_SYS_exit_group, status, 0, 0, 0, 0, 0);
}

void _start(const struct solo5_spt_boot_info *boot) {
    spt_boot = boot;
    tls_block[0] = (uint64_t)&tls_block[0];
    if (spt_syscall6(SPT_SYS_arch_prctl, 0x1002 /* ARCH_SET_FS */, (long)&tls_block[0], 0, 0, 0, 0) != 0) spt_exit(254);
    spt_exit(app_main((const char *)boot->cmdline));
}

size_t spt_strlen(const char *s) { size_t n = 0; while (s[n]) n++; return n; }

int spt_memcmp(const void *a, const void *b, size_t n) {
    const unsigned char *x = a, *y = b;
    for (size_t i = 0; i < n; i++) if (x[i] != y[i]) return x[i] < y[i] ? -1 : 1;
    return 0;
}

void *spt_memset(void *p, int c, size_t n) { unsigned char *d = p; while (n--) *d++ = (unsigned char)c; return p; }
void *spt_memcpy(void *d, const void *s, size_t n) { unsigned char *o = d; const unsigned char *i = s; while (n--) *o++ = *i++; return d; }
/* The compiler may call these by name. */
void *memset(void *p, int c, size_t n) { return spt_memset(p, c, n); }
void *memcpy(void *d, const void *s, size_t n) { return spt_memcpy(d, s, n); }

void spt_write(const char *buf, size_t n) { spt_syscall6(SPT_SYS_write, 1, (long)buf, (long)n, 0, 0, 0); }
void spt_puts(const char *s) { spt_write(s, spt_strlen(s)); }

void spt_put_u64(uint64_t v) {
    char buf[24];
    int i = 23;
    buf[i] = 0;
    do { buf[--i] = (char)('0' + v % 10); v /= 10; } while (v);
    spt_puts(&buf[i]);
}

uint64_t spt_clock(int clock) {
    struct { long sec, nsec; } ts;
    if (spt_syscall6(SPT_SYS_clock_gettime, clock, (long)&ts, 0, 0, 0, 0) != 0) spt_exit(253);
    return (uint64_t)ts.sec * 1000000000ull + (uint64_t)ts.nsec;
}

uint64_t spt_yield(uint64_t deadline_ns) {
    struct { long isec, insec, sec, nsec; } it = { 0, 0, (long)(deadline_ns / 1000000000ull), (long)(deadline_ns % 1000000000ull) | 1 };
    if (spt_syscall6(SPT_SYS_timerfd_settime, spt_boot->timerfd, 1 /* TFD_TIMER_ABSTIME */, (long)&it, 0, 0, 0) != 0) spt_exit(252);
    struct __attribute__((packed)) { uint32_t events; uint64_t data; } events[8];
    long n;
    do {
        n = spt_syscall6(SPT_SYS_epoll_pwait, spt_boot->epollfd, (long)events, 8, -1, 0, 8);
    } while (n == -4 /* EINTR */);
    uint64_t ready = 0;
    for (long i = 0; i < n; i++)
        if (events[i].data != SOLO5_SPT_TIMERFD_DATA) ready |= 1ull << (events[i].data & 63);
    return ready;
}

const struct solo5_mft_entry *spt_entry(int index) {
    const struct solo5_mft *m = (const struct solo5_mft *)spt_boot->mft;
    return index >= 0 && (uint32_t)index < m->entries ? &m->e[index] : 0;
}

int spt_find(const char *name, uint32_t type) {
    const struct solo5_mft *m = (const struct solo5_mft *)spt_boot->mft;
    for (uint32_t i = 0; i < m->entries; i++) {
        size_t n = spt_strlen(name);
        if (m->e[i].type == type && spt_memcmp(m->e[i].name, name, n + 1) == 0) return (int)i;
    }
    return -1;
}
