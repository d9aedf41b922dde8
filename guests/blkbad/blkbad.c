/*
 * blkbad: calls blkread and blkwrite with bad arguments, directly through
 * the hypercall table, and checks the tender's error codes (docs/abi.md,
 * "Block requests"). One line per case:
 *
 *   case NAME: got R, expected E: ok|MISMATCH
 *
 * and returns 0 only if every case got its expected code.
 *
 *   blkbad        the disk "disk" attached with --disk (writable)
 *   blkbad ro     the disk "disk" attached with --disk-readonly
 *
 * No case may change the disk: every blkwrite is one the tender must
 * refuse, and its buffer holds 0x5A bytes so that a write that slips
 * through shows up in the file (the test fills the file with 0xA5 and
 * compares it afterwards). Reads that succeed only change guest memory.
 *
 * Status: 0 all ok, 1 a mismatch, 2 no disk or the wrong kind of disk for
 * the mode (a writable disk in ro mode would be written by the legal
 * write, so that mode refuses to run on one).
 */
#include <nabla_check.h>

/* A function whose address is in the read-only text segment. Reading the
 * disk into it must fail with EFAULT, not crash the tender or patch code. */
__attribute__((noinline)) static int text_target(int x)
{
    return x * 3 + 1;
}

/* Read-only data: rodata is readable but not writable. */
static const char rodata_target[1024] = "read-only";

/* Writable data, 16-byte aligned for tidiness; the hypercalls need no
 * alignment of the buffer. */
static uint8_t data_buf[1024] __attribute__((aligned(16)));

static void writable_cases(const struct nabla_hypercalls *hc, const struct nabla_boot_info *info,
                           nabla_handle_t h, uint64_t capacity, uint8_t *buf)
{
    const uint64_t end = capacity * 512;   /* bytes */
    void *outside = (void *)(uintptr_t)0x1000;
    uint8_t *past_end = (uint8_t *)(uintptr_t)(info->mem_end - 512);

    expect("read-offset-unaligned", hc->blkread(h, 100, buf, 512), NABLA_EINVAL);
    expect("write-offset-unaligned", hc->blkwrite(h, 100, buf, 512), NABLA_EINVAL);
    expect("read-offset-511", hc->blkread(h, 511, buf, 512), NABLA_EINVAL);
    expect("write-offset-511", hc->blkwrite(h, 511, buf, 512), NABLA_EINVAL);
    expect("read-len-unaligned", hc->blkread(h, 0, buf, 100), NABLA_EINVAL);
    expect("write-len-unaligned", hc->blkwrite(h, 0, buf, 100), NABLA_EINVAL);
    expect("read-len-513", hc->blkread(h, 0, buf, 513), NABLA_EINVAL);
    expect("write-len-513", hc->blkwrite(h, 0, buf, 513), NABLA_EINVAL);
    expect("read-len-zero", hc->blkread(h, 0, buf, 0), NABLA_EINVAL);
    expect("write-len-zero", hc->blkwrite(h, 0, buf, 0), NABLA_EINVAL);

    expect("read-at-capacity", hc->blkread(h, end, buf, 512), NABLA_ERANGE);
    expect("write-at-capacity", hc->blkwrite(h, end, buf, 512), NABLA_ERANGE);
    expect("read-across-capacity", hc->blkread(h, end - 512, buf, 1024), NABLA_ERANGE);
    expect("write-across-capacity", hc->blkwrite(h, end - 512, buf, 1024), NABLA_ERANGE);
    expect("read-offset-overflow", hc->blkread(h, 0xFFFFFFFFFFFFFE00ull, buf, 1024), NABLA_ERANGE);
    expect("write-offset-overflow", hc->blkwrite(h, 0xFFFFFFFFFFFFFE00ull, buf, 1024), NABLA_ERANGE);
    expect("read-len-overflow", hc->blkread(h, 512, buf, 0xFFFFFFFFFFFFFE00ull), NABLA_ERANGE);
    expect("write-len-overflow", hc->blkwrite(h, 512, buf, 0xFFFFFFFFFFFFFE00ull), NABLA_ERANGE);

    expect("read-buf-outside", hc->blkread(h, 0, outside, 512), NABLA_EFAULT);
    expect("write-buf-outside", hc->blkwrite(h, 0, outside, 512), NABLA_EFAULT);
    expect("read-buf-null", hc->blkread(h, 0, NULL, 512), NABLA_EFAULT);
    expect("write-buf-null", hc->blkwrite(h, 0, NULL, 512), NABLA_EFAULT);
    /* Starts 512 bytes before mem_end (the top of the stack), claims 1024. */
    expect("read-buf-past-mem-end", hc->blkread(h, 0, past_end, 1024), NABLA_EFAULT);
    expect("write-buf-past-mem-end", hc->blkwrite(h, 0, past_end, 1024), NABLA_EFAULT);
    expect("read-into-text", hc->blkread(h, 0, (void *)(uintptr_t)&text_target, 512), NABLA_EFAULT);
    expect("read-into-rodata", hc->blkread(h, 0, (void *)rodata_target, 512), NABLA_EFAULT);
    expect("read-into-boot-info", hc->blkread(h, 0, (void *)(uintptr_t)info->mem_start, 512), NABLA_EFAULT);
    /* The last 256 bytes of the heap, then the guard page. */
    expect("read-into-guard-page",
           hc->blkread(h, 0, (void *)(uintptr_t)(info->heap_end - 256), 512), NABLA_EFAULT);
    /* A write whose source runs from the heap into the guard page must be
     * refused before any byte reaches the disk (the test checks the file). */
    expect("write-from-guard-page",
           hc->blkwrite(h, 0, (void *)(uintptr_t)(info->heap_end - 256), 512), NABLA_EFAULT);
    /* The gap between the command line area and the image is not mapped. */
    expect("write-from-unmapped-gap",
           hc->blkwrite(h, 0, (void *)(uintptr_t)(info->mem_start + 0x3000), 512), NABLA_EFAULT);

    expect("read-handle-7", hc->blkread(7, 0, buf, 512), NABLA_ENODEV);
    expect("write-handle-7", hc->blkwrite(7, 0, buf, 512), NABLA_ENODEV);
    expect("read-handle-max", hc->blkread(0xFFFFFFFFu, 0, buf, 512), NABLA_ENODEV);
    expect("write-handle-max", hc->blkwrite(0xFFFFFFFFu, 0, buf, 512), NABLA_ENODEV);

    /* The order of the checks: the first failing one decides. */
    expect("order-enodev-before-einval", hc->blkwrite(7, 1, outside, 0), NABLA_ENODEV);
    expect("order-einval-before-erange", hc->blkwrite(h, end + 1, buf, 512), NABLA_EINVAL);
    expect("order-erange-before-efault", hc->blkwrite(h, end, outside, 512), NABLA_ERANGE);

    /* Legal reads, which change nothing on the disk. */
    expect("read-first-sector", hc->blkread(h, 0, buf, 512), NABLA_OK);
    expect("read-last-sector", hc->blkread(h, end - 512, buf, 512), NABLA_OK);
    expect("read-into-data", hc->blkread(h, 0, data_buf, sizeof data_buf), NABLA_OK);

    /* The text must be intact after the refused read (volatile: the
     * call must really run the code). */
    volatile int two = 2;
    expect("text-intact", text_target(two), 7);
}

static void readonly_cases(const struct nabla_hypercalls *hc, nabla_handle_t h, uint64_t capacity,
                           uint8_t *buf)
{
    const uint64_t end = capacity * 512;

    expect("ro-write-first-sector", hc->blkwrite(h, 0, buf, 512), NABLA_EROFS);
    expect("ro-write-last-sector", hc->blkwrite(h, end - 512, buf, 512), NABLA_EROFS);
    /* EROFS comes before the argument checks. */
    expect("ro-write-offset-unaligned", hc->blkwrite(h, 100, buf, 512), NABLA_EROFS);
    expect("ro-write-len-zero", hc->blkwrite(h, 0, buf, 0), NABLA_EROFS);
    expect("ro-write-at-capacity", hc->blkwrite(h, end, buf, 512), NABLA_EROFS);
    expect("ro-write-buf-outside", hc->blkwrite(h, 0, (void *)(uintptr_t)0x1000, 512), NABLA_EROFS);
    /* ENODEV comes before EROFS. */
    expect("ro-write-handle-7", hc->blkwrite(7, 0, buf, 512), NABLA_ENODEV);

    expect("ro-read-first-sector", hc->blkread(h, 0, buf, 512), NABLA_OK);
    expect("ro-read-last-sector", hc->blkread(h, end - 512, buf, 512), NABLA_OK);
    expect("ro-read-whole-disk-start", hc->blkread(h, 0, buf, 1024), NABLA_OK);
    expect("ro-read-offset-unaligned", hc->blkread(h, 100, buf, 512), NABLA_EINVAL);
    expect("ro-read-at-capacity", hc->blkread(h, end, buf, 512), NABLA_ERANGE);
    expect("ro-read-into-text", hc->blkread(h, 0, (void *)(uintptr_t)&text_target, 512), NABLA_EFAULT);
}

int main(int argc, char **argv)
{
    int readonly = argc >= 2 && strcmp(argv[1], "ro") == 0;
    if (argc > 2 || (argc == 2 && !readonly)) {
        printf("usage: blkbad [ro]\n");
        return 64;
    }
    const struct nabla_boot_info *info = nabla_boot_info();
    const struct nabla_hypercalls *hc = nabla_hypercall_table();

    int disk = nabla_device_find("disk", NABLA_DEVICE_BLOCK);
    const struct nabla_device *dev = nabla_device(disk);
    if (dev == NULL) {
        printf("blkbad: no disk\n");
        return 2;
    }
    int is_readonly = (dev->flags & NABLA_DEVICE_READONLY) != 0;
    if (is_readonly != readonly) {
        printf("blkbad: the disk is %s; run %s\n", is_readonly ? "read-only" : "writable",
               readonly ? "'blkbad ro' with --disk-readonly" : "'blkbad' with --disk");
        return 2;
    }
    if (info->device_count != 1)
        printf("warning: %u devices attached; the handle-7 cases assume one\n", info->device_count);
    uint64_t capacity = dev->u.block.capacity;
    if (capacity < 2) {
        printf("blkbad: the disk needs at least 2 sectors\n");
        return 2;
    }

    expect("sector-size", (int64_t)dev->u.block.sector_size, NABLA_SECTOR_SIZE);

    /* The buffer every refused write offers: 0x5A, so that a write that
     * got through would change the test's 0xA5 file. */
    uint8_t *buf = malloc(2048);
    if (buf == NULL) {
        printf("blkbad: out of memory\n");
        return 2;
    }
    memset(buf, 0x5A, 2048);

    if (readonly)
        readonly_cases(hc, (nabla_handle_t)disk, capacity, buf);
    else
        writable_cases(hc, info, (nabla_handle_t)disk, capacity, buf);

    return nabla_check_summary();
}
