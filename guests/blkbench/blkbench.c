/*
 * blkbench: sequential block throughput inside a guest.
 *
 *   blkbench read|write SIZE
 *
 * Reads or writes the whole disk "disk" from start to end in requests of
 * SIZE bytes (a multiple of 512; K and M suffixes are powers of 1024; the
 * last request is clipped at the end of the disk), from one heap buffer,
 * and prints
 *
 *   blkbench: MODE SIZE: N bytes in T ns
 *
 * with SIZE in bytes and T measured on the monotonic clock around the
 * loop. bench/native/blkbench.c does the same with pread/pwrite on a file;
 * bench/disk.sh compares the two.
 *
 * Status: 0 ok; 2 no disk; 3 a request failed; 64 usage.
 */
#include <nabla.h>

static int parse_size(const char *s, uint64_t *out)
{
    char digits[32];
    size_t n = strlen(s);
    uint64_t scale = 1;
    if (n > 0 && (s[n - 1] == 'K' || s[n - 1] == 'k' || s[n - 1] == 'M' || s[n - 1] == 'm')) {
        scale = (s[n - 1] == 'K' || s[n - 1] == 'k') ? 1024 : 1024 * 1024;
        n--;
    }
    if (n == 0 || n >= sizeof digits)
        return -1;
    memcpy(digits, s, n);
    digits[n] = 0;
    uint64_t v;
    if (nabla_parse_u64(digits, &v) != 0 || v == 0 || v > (1ull << 30) / scale)
        return -1;
    *out = v * scale;
    return *out % NABLA_SECTOR_SIZE == 0 ? 0 : -1;
}

int main(int argc, char **argv)
{
    uint64_t size;
    int writing = argc == 3 && strcmp(argv[1], "write") == 0;
    if (argc != 3 || (!writing && strcmp(argv[1], "read") != 0) || parse_size(argv[2], &size) != 0) {
        printf("usage: blkbench read|write SIZE   (SIZE a multiple of 512, at most 1G)\n");
        return 64;
    }
    int disk = nabla_device_find("disk", NABLA_DEVICE_BLOCK);
    const struct nabla_device *dev = nabla_device(disk);
    if (dev == NULL) {
        printf("blkbench: no disk\n");
        return 2;
    }
    uint64_t total = dev->u.block.capacity * dev->u.block.sector_size;
    /* Page aligned, as block I/O buffers usually are: the kernel's copy
     * between the page cache and a buffer that starts a few bytes past a
     * page boundary suffers from 4 KiB aliasing (loads from the source
     * stall on stores to the destination with the same low address bits),
     * which would measure the buffer's placement, not nabla. The native
     * baseline uses the same alignment. */
    uint8_t *buf = aligned_alloc(NABLA_PAGE_SIZE, size);
    if (buf == NULL) {
        printf("blkbench: cannot allocate %llu bytes\n", (unsigned long long)size);
        return 3;
    }
    /* Initialised, so that the pages are mapped before timing starts. */
    for (uint64_t i = 0; i < size; i++)
        buf[i] = (uint8_t)(i * 131 + 7);

    uint64_t start = nabla_clock_monotonic();
    for (uint64_t offset = 0; offset < total; offset += size) {
        uint64_t len = total - offset < size ? total - offset : size;
        int64_t r = writing ? nabla_blk_write(disk, offset, buf, len) : nabla_blk_read(disk, offset, buf, len);
        if (r != NABLA_OK) {
            printf("blkbench: %s at offset %llu failed: %lld\n", argv[1], (unsigned long long)offset, (long long)r);
            return 3;
        }
    }
    uint64_t elapsed = nabla_clock_monotonic() - start;
    printf("blkbench: %s %llu: %llu bytes in %llu ns\n", argv[1], (unsigned long long)size,
           (unsigned long long)total, (unsigned long long)elapsed);
    free(buf);
    return 0;
}
