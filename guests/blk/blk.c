/*
 * blk: writes a deterministic pattern over the whole disk "disk" and reads
 * it back, to check that block requests of every size land where they
 * should and persist.
 *
 *   blk write SEED     fill the disk, then read it all back and verify
 *   blk verify SEED    only read and verify (a second run proves persistence)
 *
 * The pattern is a function of SEED and the byte offset alone: the 8-byte
 * little-endian word at offset o (a multiple of 8) is mix(SEED, o). Requests
 * of any size therefore produce the same disk contents. Writes cycle through
 * 512 B, 4 KiB, 64 KiB and 1 MiB requests, reads through another cycle, each
 * clipped at the end of the disk, so requests straddle each other's
 * boundaries. The I/O buffer comes from the heap.
 *
 * Output and status:
 *   blk: wrote N bytes in K requests       (write)
 *   blk: verified N bytes in K requests    0
 *   blk: mismatch at offset X              1 (X: the first differing byte)
 *   blk: no disk                           2
 *   blk: read/write failed at offset X: R  3 (R: the NABLA_E* code)
 *   usage                                  64
 */
#include <nabla.h>

#define MIB (1024u * 1024u)

static const uint64_t write_sizes[] = { 512, 4096, 65536, MIB };
static const uint64_t read_sizes[] = { MIB, 512, 65536, 3 * 512, 4096, 12 * 512 };
#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* A bijective 64-bit mixer (the splitmix64 finaliser). */
static uint64_t mix(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebull;
    x ^= x >> 31;
    return x;
}

/* The pattern word at byte offset `offset` (a multiple of 8). */
static uint64_t pattern(uint64_t seed, uint64_t offset)
{
    return mix(seed * 0x9e3779b97f4a7c15ull + (offset >> 3) + 1);
}

static void fill(uint64_t seed, uint64_t offset, uint8_t *buf, uint64_t len)
{
    for (uint64_t i = 0; i < len; i += 8) {
        uint64_t w = pattern(seed, offset + i);
        memcpy(buf + i, &w, 8);
    }
}

/* Returns the index of the first byte that differs from the pattern, or
 * `len` if none does. */
static uint64_t check(uint64_t seed, uint64_t offset, const uint8_t *buf, uint64_t len)
{
    for (uint64_t i = 0; i < len; i += 8) {
        uint64_t w = pattern(seed, offset + i);
        if (memcmp(buf + i, &w, 8) != 0) {
            const uint8_t *want = (const uint8_t *)&w;
            uint64_t j = 0;
            while (buf[i + j] == want[j])
                j++;
            return i + j;
        }
    }
    return len;
}

static uint64_t clip(uint64_t size, uint64_t offset, uint64_t total)
{
    return size < total - offset ? size : total - offset;
}

static int write_all(int disk, uint64_t total, uint64_t seed, uint8_t *buf)
{
    uint64_t offset = 0, requests = 0;
    while (offset < total) {
        uint64_t len = clip(write_sizes[requests % COUNT(write_sizes)], offset, total);
        fill(seed, offset, buf, len);
        int64_t r = nabla_blk_write(disk, offset, buf, len);
        if (r != NABLA_OK) {
            printf("blk: write failed at offset %llu: %lld\n", (unsigned long long)offset, (long long)r);
            return 3;
        }
        offset += len;
        requests++;
    }
    printf("blk: wrote %llu bytes in %llu requests\n", (unsigned long long)total,
           (unsigned long long)requests);
    return 0;
}

static int verify_all(int disk, uint64_t total, uint64_t seed, uint8_t *buf)
{
    uint64_t offset = 0, requests = 0;
    while (offset < total) {
        uint64_t len = clip(read_sizes[requests % COUNT(read_sizes)], offset, total);
        /* Poison the buffer so that a read that stores nothing is caught. */
        memset(buf, 0xEE, len);
        int64_t r = nabla_blk_read(disk, offset, buf, len);
        if (r != NABLA_OK) {
            printf("blk: read failed at offset %llu: %lld\n", (unsigned long long)offset, (long long)r);
            return 3;
        }
        uint64_t bad = check(seed, offset, buf, len);
        if (bad != len) {
            printf("blk: mismatch at offset %llu\n", (unsigned long long)(offset + bad));
            return 1;
        }
        offset += len;
        requests++;
    }
    printf("blk: verified %llu bytes in %llu requests\n", (unsigned long long)total,
           (unsigned long long)requests);
    return 0;
}

int main(int argc, char **argv)
{
    uint64_t seed;
    int writing = argc == 3 && strcmp(argv[1], "write") == 0;
    if (argc != 3 || (!writing && strcmp(argv[1], "verify") != 0) || nabla_parse_u64(argv[2], &seed) != 0) {
        printf("usage: blk write|verify SEED\n");
        return 64;
    }

    int disk = nabla_device_find("disk", NABLA_DEVICE_BLOCK);
    const struct nabla_device *dev = nabla_device(disk);
    if (dev == NULL) {
        printf("blk: no disk\n");
        return 2;
    }
    uint64_t total = dev->u.block.capacity * dev->u.block.sector_size;

    uint8_t *buf = malloc(MIB);
    if (buf == NULL) {
        printf("blk: cannot allocate a 1 MiB buffer\n");
        return 3;
    }
    int status = writing ? write_all(disk, total, seed, buf) : 0;
    if (status == 0)
        status = verify_all(disk, total, seed, buf);
    free(buf);
    return status;
}
