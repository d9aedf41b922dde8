/* blk: writes a pattern into every block of "storage" (up to 64), reads it
 * back, checks it, and reports the block size and capacity. With "beyond",
 * reads one block past the end: the policy stops it (159). */
#include "spt.h"
SPT_MANIFEST(2, SPT_BLOCK("storage"));

static uint8_t buffer[32768], check[32768];

int app_main(const char *cmdline) {
    int h = spt_find("storage", SOLO5_MFT_BLOCK_BASIC);
    const struct solo5_mft_entry *e = spt_entry(h);
    if (!e || !e->attached) return 10;
    uint64_t size = e->u.block.block_size, capacity = e->u.block.capacity;
    if (size < 512 || size > sizeof buffer || capacity % size) return 11;
    if (spt_memcmp(cmdline, "beyond", 7) == 0) {
        spt_syscall6(SPT_SYS_pread64, e->b.hostfd, (long)buffer, (long)size, (long)capacity, 0, 0);
        return 12;
    }
    uint64_t blocks = capacity / size > 64 ? 64 : capacity / size;
    for (uint64_t b = 0; b < blocks; b++) {
        for (uint64_t i = 0; i < size; i++) buffer[i] = (uint8_t)(b * 7 + i);
        if (spt_syscall6(SPT_SYS_pwrite64, e->b.hostfd, (long)buffer, (long)size, (long)(b * size), 0, 0) != (long)size) return 13;
    }
    for (uint64_t b = 0; b < blocks; b++) {
        if (spt_syscall6(SPT_SYS_pread64, e->b.hostfd, (long)check, (long)size, (long)(b * size), 0, 0) != (long)size) return 14;
        for (uint64_t i = 0; i < size; i++) if (check[i] != (uint8_t)(b * 7 + i)) return 15;
    }
    spt_puts("block ok: block size ");
    spt_put_u64(size);
    spt_puts(", capacity ");
    spt_put_u64(capacity);
    spt_puts("\n");
    return 0;
}
