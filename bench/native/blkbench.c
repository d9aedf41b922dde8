/*
 * blkbench (native): the baseline for the blkbench guest. The same loop,
 * pread or pwrite over the whole FILE in requests of SIZE bytes from one
 * buffer, timed on CLOCK_MONOTONIC, and the same output line:
 *
 *   blkbench read|write SIZE FILE
 *   blkbench: MODE SIZE: N bytes in T ns
 *
 * The file is opened as nabla-run opens a --disk (O_RDWR, no O_DSYNC), so
 * both go through the page cache. A short transfer is continued, as the
 * tender does.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static int parse_size(const char *s, uint64_t *out)
{
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    uint64_t scale = 1;
    if (*end == 'K' || *end == 'k') scale = 1024, end++;
    else if (*end == 'M' || *end == 'm') scale = 1024 * 1024, end++;
    if (end == s || *end != 0 || v == 0 || v > (1ull << 30) / scale) return -1;
    *out = v * scale;
    return *out % 512 == 0 ? 0 : -1;
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int main(int argc, char **argv)
{
    uint64_t size;
    int writing = argc == 4 && strcmp(argv[1], "write") == 0;
    if (argc != 4 || (!writing && strcmp(argv[1], "read") != 0) || parse_size(argv[2], &size) != 0) {
        fprintf(stderr, "usage: blkbench read|write SIZE FILE   (SIZE a multiple of 512, at most 1G)\n");
        return 64;
    }
    int fd = open(argv[3], O_RDWR);
    if (fd < 0) { perror(argv[3]); return 66; }
    struct stat st;
    if (fstat(fd, &st) != 0) { perror("fstat"); return 66; }
    uint64_t total = (uint64_t)st.st_size / 512 * 512;
    /* Page aligned, like the guest's (see guests/blkbench/blkbench.c). */
    uint8_t *buf = aligned_alloc(4096, (size + 4095) / 4096 * 4096);
    if (buf == NULL) { fprintf(stderr, "blkbench: out of memory\n"); return 3; }
    for (uint64_t i = 0; i < size; i++) buf[i] = (uint8_t)(i * 131 + 7);

    uint64_t start = now_ns();
    for (uint64_t offset = 0; offset < total; offset += size) {
        uint64_t len = total - offset < size ? total - offset : size, done = 0;
        while (done < len) {
            ssize_t n = writing ? pwrite(fd, buf + done, len - done, (off_t)(offset + done))
                                : pread(fd, buf + done, len - done, (off_t)(offset + done));
            if (n <= 0) {
                fprintf(stderr, "blkbench: %s at offset %llu failed\n", argv[1], (unsigned long long)(offset + done));
                return 3;
            }
            done += (uint64_t)n;
        }
    }
    uint64_t elapsed = now_ns() - start;
    printf("blkbench: %s %llu: %llu bytes in %llu ns\n", argv[1], (unsigned long long)size,
           (unsigned long long)total, (unsigned long long)elapsed);
    free(buf);
    close(fd);
    return 0;
}
