/* maxdevices: the most devices a Solo5 manifest can declare, 63 disks
 * storage0 ... storage62 (64 entries, the first reserved). Counts the ones
 * the tender attached, with a capacity, and says how many. */
#include "spt.h"
#define B(n) SPT_BLOCK("storage" #n)
SPT_MANIFEST(64,
    B(0), B(1), B(2), B(3), B(4), B(5), B(6), B(7),
    B(8), B(9), B(10), B(11), B(12), B(13), B(14), B(15),
    B(16), B(17), B(18), B(19), B(20), B(21), B(22), B(23),
    B(24), B(25), B(26), B(27), B(28), B(29), B(30), B(31),
    B(32), B(33), B(34), B(35), B(36), B(37), B(38), B(39),
    B(40), B(41), B(42), B(43), B(44), B(45), B(46), B(47),
    B(48), B(49), B(50), B(51), B(52), B(53), B(54), B(55),
    B(56), B(57), B(58), B(59), B(60), B(61), B(62));

int app_main(const char *cmdline) {
    (void)cmdline;
    const struct solo5_mft *m = (const struct solo5_mft *)spt_boot->mft;
    uint64_t attached = 0;
    for (uint32_t i = 1; i < m->entries; i++) {
        const struct solo5_mft_entry *e = spt_entry((int)i);
        if (e->type == SOLO5_MFT_BLOCK_BASIC && e->attached && e->u.block.capacity > 0) attached++;
    }
    spt_puts("maxdevices ok: ");
    spt_put_u64(attached);
    spt_puts(" disks attached\n");
    return attached == 63 ? 0 : 1;
}
