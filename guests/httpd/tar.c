/*
 * tar.c: reading a ustar archive's headers into a hash table.
 *
 * Each member is a 512-byte header and its data padded to 512 bytes; two
 * zero blocks (or the end of the disk) end the archive. GNU tar writes names
 * over 100 bytes as a preceding 'L' member holding the name; POSIX tar as a
 * preceding 'x' (pax) member with a "path=" record, or in the header's
 * 155-byte prefix field. All three are understood.
 */
#include "tar.h"

#define BLOCK 512
#define NAME_MAX_LEN 4096

static uint64_t parse_octal(const uint8_t *p, size_t n, int *ok)
{
    /* GNU's base-256 form for sizes of 8 GiB and more. */
    if (p[0] & 0x80) {
        uint64_t v = p[0] & 0x3f;
        for (size_t i = 1; i < n; i++) {
            if (v >> 56) {
                *ok = 0;
                return 0;
            }
            v = v << 8 | p[i];
        }
        return v;
    }
    uint64_t v = 0;
    size_t i = 0;
    while (i < n && p[i] == ' ')
        i++;
    for (; i < n && p[i] >= '0' && p[i] <= '7'; i++) {
        if (v >> 60) {
            *ok = 0;
            return 0;
        }
        v = v * 8 + (uint64_t)(p[i] - '0');
    }
    for (; i < n; i++)
        if (p[i] != ' ' && p[i] != '\0')
            *ok = 0;
    return v;
}

static int checksum_ok(const uint8_t *h)
{
    int ok = 1;
    uint64_t want = parse_octal(h + 148, 8, &ok);
    uint64_t sum = 0;
    for (int i = 0; i < BLOCK; i++)
        sum += (i >= 148 && i < 156) ? ' ' : h[i];
    return ok && sum == want;
}

static uint32_t hash(const char *s, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (uint8_t)s[i]) * 16777619u;
    return h;
}

const struct tar_entry *tar_find(const struct tar_index *t, const char *path, size_t len)
{
    if (t->slot_count == 0)
        return NULL;
    size_t mask = t->slot_count - 1;
    for (size_t i = hash(path, len) & mask;; i = (i + 1) & mask) {
        uint32_t slot = t->slots[i];
        if (slot == 0)
            return NULL;
        const struct tar_entry *e = &t->entries[slot - 1];
        if (strlen(e->path) == len && memcmp(e->path, path, len) == 0)
            return e;
    }
}

/* Copies a member name into out, normalised (see tar.h). 0 or -1. */
static int normalise(const char *in, size_t n, char *out)
{
    while (n > 0 && (in[0] == '/' || (in[0] == '.' && (n == 1 || in[1] == '/')))) {
        in++;
        n--;
    }
    while (n > 0 && in[n - 1] == '/')
        n--;
    if (n >= NAME_MAX_LEN || memchr(in, '\0', n) != NULL)
        return -1;
    memcpy(out, in, n);
    out[n] = '\0';
    return 0;
}

static int add(struct tar_index *t, const char *path, uint64_t offset, uint64_t size, int is_dir)
{
    const struct tar_entry *old = tar_find(t, path, strlen(path));
    if (old != NULL) {
        /* A later member of the same name replaces the earlier, as tar -x does. */
        struct tar_entry *e = &t->entries[old - t->entries];
        e->offset = offset;
        e->size = size;
        e->is_dir = (uint8_t)is_dir;
        return 0;
    }
    if (t->count == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 64;
        struct tar_entry *entries = realloc(t->entries, cap * sizeof *entries);
        if (entries == NULL)
            return -1;
        t->entries = entries;
        t->cap = cap;
    }
    if ((t->count + 1) * 2 > t->slot_count) {
        size_t slot_count = t->slot_count ? t->slot_count * 2 : 128;
        uint32_t *slots = calloc(slot_count, sizeof *slots);
        if (slots == NULL)
            return -1;
        free(t->slots);
        t->slots = slots;
        t->slot_count = slot_count;
        for (size_t i = 0; i < t->count; i++) {
            size_t j = hash(t->entries[i].path, strlen(t->entries[i].path)) & (slot_count - 1);
            while (slots[j] != 0)
                j = (j + 1) & (slot_count - 1);
            slots[j] = (uint32_t)i + 1;
        }
    }
    size_t n = strlen(path);
    char *copy = malloc(n + 1);
    if (copy == NULL)
        return -1;
    memcpy(copy, path, n + 1);
    struct tar_entry *e = &t->entries[t->count];
    e->path = copy;
    e->offset = offset;
    e->size = size;
    e->is_dir = (uint8_t)is_dir;
    size_t j = hash(copy, n) & (t->slot_count - 1);
    while (t->slots[j] != 0)
        j = (j + 1) & (t->slot_count - 1);
    t->slots[j] = (uint32_t)t->count + 1;
    t->count++;
    return 0;
}

/* Reads `size` bytes of a member's data (a long name or pax records), at
 * most NAME_MAX_LEN, into buf as a string. 0 or -1. */
static int read_small(struct tar_index *t, uint64_t offset, uint64_t size, char *buf)
{
    if (size >= NAME_MAX_LEN)
        return -1;
    uint64_t len = (size + BLOCK - 1) / BLOCK * BLOCK;
    if (len == 0) {
        buf[0] = '\0';
        return 0;
    }
    if (offset + len > t->capacity || nabla_blk_read(t->handle, offset, buf, len) != NABLA_OK)
        return -1;
    buf[size] = '\0';
    return 0;
}

/* The value of the "path=" record of pax extended header data, or NULL. */
static char *pax_path(char *records, size_t size, size_t *len)
{
    size_t i = 0;
    while (i < size) {
        char *end;
        unsigned long n = strtoul(records + i, &end, 10);
        if (n == 0 || end == records + i || *end != ' ' || i + n > size)
            return NULL;
        char *key = end + 1;
        if (strncmp(key, "path=", 5) == 0 && records[i + n - 1] == '\n') {
            *len = (size_t)(records + i + n - 1 - (key + 5));
            return key + 5;
        }
        i += n;
    }
    return NULL;
}

int tar_load(struct tar_index *t, int handle)
{
    static uint8_t header[BLOCK];
    static char data[NAME_MAX_LEN + BLOCK];
    static char name[NAME_MAX_LEN], long_name[NAME_MAX_LEN];
    const struct nabla_device *d = nabla_device(handle);
    memset(t, 0, sizeof *t);
    t->handle = handle;
    t->capacity = d->u.block.capacity * d->u.block.sector_size;
    int have_long_name = 0;
    uint64_t offset = 0;
    while (offset + BLOCK <= t->capacity) {
        if (nabla_blk_read(handle, offset, header, BLOCK) != NABLA_OK) {
            printf("httpd: cannot read the archive at byte %llu\n", (unsigned long long)offset);
            return -1;
        }
        int zero = 1;
        for (int i = 0; i < BLOCK && zero; i++)
            zero = header[i] == 0;
        if (zero)
            break;
        if (!checksum_ok(header)) {
            printf("httpd: the disk is not a tar archive: bad header checksum at byte %llu\n",
                   (unsigned long long)offset);
            return -1;
        }
        int ok = 1;
        uint64_t size = parse_octal(header + 124, 12, &ok);
        uint64_t data_offset = offset + BLOCK;
        uint64_t padded = (size + BLOCK - 1) / BLOCK * BLOCK;
        if (!ok || padded < size || data_offset + padded > t->capacity || data_offset + padded < data_offset) {
            printf("httpd: bad tar header at byte %llu: its size runs past the end of the disk\n",
                   (unsigned long long)offset);
            return -1;
        }
        uint8_t type = header[156];
        if (type == 'L' || type == 'x') {
            if (read_small(t, data_offset, size, data) != 0) {
                printf("httpd: bad long name in the tar archive at byte %llu\n", (unsigned long long)offset);
                return -1;
            }
            const char *value = data;
            size_t len = strnlen(data, size);
            if (type == 'x')
                value = pax_path(data, size, &len);
            if (value != NULL) {
                if (normalise(value, len, long_name) != 0) {
                    printf("httpd: bad long name in the tar archive at byte %llu\n", (unsigned long long)offset);
                    return -1;
                }
                have_long_name = 1;
            }
        } else if (type == '0' || type == '\0' || type == '7' || type == '5') {
            if (have_long_name) {
                memcpy(name, long_name, strlen(long_name) + 1);
            } else {
                char full[256 + 100 + 1];
                size_t n = 0;
                if (memcmp(header + 257, "ustar", 5) == 0 && header[345] != '\0') {
                    size_t p = strnlen((const char *)header + 345, 155);
                    memcpy(full, header + 345, p);
                    full[p] = '/';
                    n = p + 1;
                }
                size_t l = strnlen((const char *)header, 100);
                memcpy(full + n, header, l);
                n += l;
                if (normalise(full, n, name) != 0) {
                    printf("httpd: bad member name in the tar archive at byte %llu\n", (unsigned long long)offset);
                    return -1;
                }
            }
            have_long_name = 0;
            if (add(t, name, data_offset, type == '5' ? 0 : size, type == '5') != 0) {
                printf("httpd: out of memory indexing the archive (give the guest more --mem)\n");
                return -1;
            }
        } else {
            have_long_name = 0;         /* links, devices, FIFOs, 'g': not served */
        }
        offset = data_offset + padded;
    }
    return 0;
}
