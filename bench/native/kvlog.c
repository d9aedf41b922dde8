/*
 * kvlog (native): the audit baseline for the kvlog guest. The same job, an
 * append-only key-value log of checksummed 512-byte records, done by an
 * ordinary Linux process on a file with pread/pwrite, so that
 * `nabla-run --audit-native` can compare its system calls with the guest's.
 *
 *   kvlog FILE put KEY VALUE | get KEY | list | count | fill N [PREFIX]
 *
 * Record (one sector): magic "KVL1", sequence number, key length, value
 * length, CRC-32 of the rest of the sector; replay stops at the first bad
 * record.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../guests/kvlog/kvlog_crc32.h"

#define SECTOR 512
#define MAGIC 0x314c564bu /* "KVL1" */

struct header {
    uint32_t magic;
    uint32_t crc;
    uint64_t seq;
    uint16_t key_len;
    uint16_t value_len;
};

static int valid(const uint8_t *sector, uint64_t seq) {
    const struct header *h = (const void *)sector;
    if (h->magic != MAGIC || h->seq != seq) return 0;
    if (sizeof *h + h->key_len + h->value_len > SECTOR) return 0;
    return kvlog_crc32(sector + 8, SECTOR - 8) == h->crc;
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: kvlog FILE put KEY VALUE | get KEY | list | count | fill N [PREFIX]\n");
        return 2;
    }
    int fd = open(argv[1], O_RDWR);
    if (fd < 0) { perror(argv[1]); return 2; }
    struct stat st;
    fstat(fd, &st);
    uint64_t sectors = (uint64_t)st.st_size / SECTOR, next = 0, seq = 1;
    uint8_t sector[SECTOR];
    const char *want = argc > 3 ? argv[3] : "";
    char found[SECTOR] = {0};
    int have = 0;
    /* Replay: find the tail, and for get/list print as we go. */
    while (next < sectors && pread(fd, sector, SECTOR, (off_t)(next * SECTOR)) == SECTOR && valid(sector, seq)) {
        const struct header *h = (const void *)sector;
        const char *key = (const char *)sector + sizeof *h, *value = key + h->key_len;
        if (!strcmp(argv[2], "get") && h->key_len == strlen(want) && !memcmp(key, want, h->key_len)) {
            memcpy(found, value, h->value_len);
            found[h->value_len] = 0;
            have = 1;
        } else if (!strcmp(argv[2], "list")) {
            printf("%.*s=%.*s\n", h->key_len, key, h->value_len, value);
        }
        next++, seq++;
    }
    if (!strcmp(argv[2], "count")) { printf("records %llu\n", (unsigned long long)(seq - 1)); return 0; }
    if (!strcmp(argv[2], "list")) return 0;
    if (!strcmp(argv[2], "get")) { if (have) printf("%s\n", found); else printf("not found\n"); return !have; }

    long count = 1;
    const char *prefix = "key";
    if (!strcmp(argv[2], "fill")) { count = argc > 3 ? atol(argv[3]) : 1; prefix = argc > 4 ? argv[4] : "key"; }
    else if (strcmp(argv[2], "put") || argc < 5) { fprintf(stderr, "kvlog: unknown command %s\n", argv[2]); return 2; }
    for (long i = 0; i < count; i++, next++, seq++) {
        if (next >= sectors) { printf("kvlog: disk full\n"); return 3; }
        char key[128], value[400];
        if (!strcmp(argv[2], "fill")) {
            snprintf(key, sizeof key, "%s-%ld", prefix, i);
            snprintf(value, sizeof value, "value-%ld", i);
        } else {
            snprintf(key, sizeof key, "%s", argv[3]);
            snprintf(value, sizeof value, "%s", argv[4]);
        }
        memset(sector, 0, SECTOR);
        struct header *h = (void *)sector;
        h->magic = MAGIC;
        h->seq = seq;
        h->key_len = (uint16_t)strlen(key);
        h->value_len = (uint16_t)strlen(value);
        memcpy(sector + sizeof *h, key, h->key_len);
        memcpy(sector + sizeof *h + h->key_len, value, h->value_len);
        h->crc = kvlog_crc32(sector + 8, SECTOR - 8);
        if (pwrite(fd, sector, SECTOR, (off_t)(next * SECTOR)) != SECTOR) { perror("pwrite"); return 1; }
        printf(!strcmp(argv[2], "fill") ? "written %llu\n" : "ok %llu\n", (unsigned long long)seq);
        fflush(stdout);
    }
    return 0;
}
