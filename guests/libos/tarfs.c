/*
 * tarfs.c: a tar archive on a block device as a read-only file system,
 * read in place (docs/files.md, "The root file system").
 *
 * Mounting reads every header once, front to back, 64 KiB at a time, and
 * builds the tree of nodes in guest memory: a regular file's node keeps
 * where its data starts on the disk. After that, finding a file costs no
 * disk access, and reading one is a blkread straight into the caller's
 * buffer for the whole sectors (a tar member's data starts on a 512-byte
 * boundary) and a copy from a one-window cache for the partial ones.
 *
 * Understood: POSIX ustar (prefix + name), GNU long names and link names
 * ('L', 'K'), pax extended headers ('x': path, linkpath, size), regular
 * files, directories, symbolic links and hard links. Device nodes, FIFOs
 * and pax global headers are skipped; a member whose path has a ".."
 * component is skipped too.
 */
#include "files.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define TAR_BLOCK   512u
#define TAR_WINDOW  65536u

/* The last window read from a disk. */
static struct {
    int device;
    uint64_t offset;
    size_t length;
    char data[TAR_WINDOW];
} cache = {.device = -1};

static uint64_t capacity_of(int device)
{
    const struct nabla_device *d = nabla_device(device);
    return d ? d->u.block.capacity * d->u.block.sector_size : 0;
}

static int disk_read(int device, uint64_t offset, void *buf, size_t len)
{
    return nabla_blk_read(device, offset, buf, len) == NABLA_OK ? 0 : nabla__fail(EIO);
}

/* The bytes of `device` from `offset` (a multiple of TAR_BLOCK) on, at
 * least one block of them: *available says how many. NULL with errno EIO
 * on a read error. */
static const char *window(int device, uint64_t offset, size_t *available)
{
    if (cache.device != device || offset < cache.offset || offset >= cache.offset + cache.length) {
        uint64_t end = capacity_of(device);
        if (offset >= end) {
            nabla__fail(EIO);
            return NULL;
        }
        size_t len = end - offset < TAR_WINDOW ? (size_t)(end - offset) : TAR_WINDOW;
        cache.device = -1;
        if (disk_read(device, offset, cache.data, len) != 0)
            return NULL;
        cache.device = device;
        cache.offset = offset;
        cache.length = len;
    }
    *available = (size_t)(cache.offset + cache.length - offset);
    return cache.data + (offset - cache.offset);
}

static ssize_t tar_read(struct fs_node *n, void *buf, size_t len, uint64_t offset)
{
    if (offset >= n->size)
        return 0;
    if (len > n->size - offset)
        len = (size_t)(n->size - offset);
    int device = n->mount->device;
    uint64_t start = n->offset + offset;
    size_t done = 0;
    while (done < len) {
        uint64_t at = start + done;
        size_t want = len - done;
        if (at % TAR_BLOCK == 0 && want >= TAR_BLOCK) {
            size_t whole = want - want % TAR_BLOCK;
            if (disk_read(device, at, (char *)buf + done, whole) != 0)
                return -1;
            done += whole;
            continue;
        }
        uint64_t block = at - at % TAR_BLOCK;
        size_t available;
        const char *p = window(device, block, &available);
        if (p == NULL)
            return -1;
        size_t skip = (size_t)(at - block);
        size_t n_ = available - skip < want ? available - skip : want;
        memcpy((char *)buf + done, p + skip, n_);
        done += n_;
    }
    return (ssize_t)len;
}

const struct fs_kind nabla__tar_kind = {
    .name = "tar",
    .read = tar_read,
};

/* ---- Indexing ---------------------------------------------------------------------- */

/* A numeric header field: octal digits (leading spaces or NULs allowed),
 * or GNU's base-256 with the high bit of the first byte set. */
static uint64_t number(const char *field, size_t size)
{
    const unsigned char *f = (const unsigned char *)field;
    uint64_t v = 0;
    if (f[0] & 0x80) {
        for (size_t i = 1; i < size; i++)
            v = (v << 8) | f[i];
        return v;
    }
    size_t i = 0;
    while (i < size && (f[i] == ' ' || f[i] == '\0'))
        i++;
    for (; i < size && f[i] >= '0' && f[i] <= '7'; i++)
        v = (v << 3) | (uint64_t)(f[i] - '0');
    return v;
}

static int checksum_ok(const char *h)
{
    uint64_t sum = 0;
    for (size_t i = 0; i < TAR_BLOCK; i++)
        sum += (i >= 148 && i < 156) ? ' ' : (unsigned char)h[i];
    return sum == number(h + 148, 8);
}

static int all_zero(const char *h)
{
    for (size_t i = 0; i < TAR_BLOCK; i++)
        if (h[i])
            return 0;
    return 1;
}

/* A member's data (a long name, a pax header) as a NUL-terminated string. */
static char *member_text(int device, uint64_t offset, uint64_t size)
{
    if (size > 1u << 20)
        return NULL;
    size_t padded = (size_t)((size + TAR_BLOCK - 1) / TAR_BLOCK * TAR_BLOCK);
    char *text = malloc(padded + 1);
    if (text == NULL)
        return NULL;
    if (padded && disk_read(device, offset, text, padded) != 0) {
        free(text);
        return NULL;
    }
    text[size] = '\0';
    return text;
}

/* The value of `key` in pax records ("LEN key=value\n"...), copied. */
static char *pax_value(const char *records, size_t size, const char *key)
{
    size_t klen = strlen(key);
    const char *p = records, *end = records + size;
    while (p < end) {
        char *after;
        unsigned long len = strtoul(p, &after, 10);
        if (len == 0 || len > (size_t)(end - p) || *after != ' ')
            return NULL;
        const char *kv = after + 1, *rec_end = p + len;
        if ((size_t)(rec_end - kv) > klen + 1 && memcmp(kv, key, klen) == 0 && kv[klen] == '=') {
            const char *v = kv + klen + 1;
            size_t vlen = (size_t)(rec_end - v) - (rec_end[-1] == '\n');
            char *out = malloc(vlen + 1);
            if (out) {
                memcpy(out, v, vlen);
                out[vlen] = '\0';
            }
            return out;
        }
        p = rec_end;
    }
    return NULL;
}

/* The node for `path` in `m`, made with its missing directories; NULL if
 * the path has a ".." component, is the root, or memory ran out. */
static struct fs_node *place(struct fs_mount *m, const char *path, uint32_t mode)
{
    struct fs_node *dir = m->root;
    const char *p = path;
    for (;;) {
        while (*p == '/')
            p++;
        if (*p == '\0')
            return NULL;
        const char *end = strchr(p, '/');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        const char *after = p + n;
        while (*after == '/')
            after++;
        int last = *after == '\0';
        if (n == 2 && p[0] == '.' && p[1] == '.')
            return NULL;
        if (n == 1 && p[0] == '.') {
            if (last)
                return NULL;
            p = after;
            continue;
        }
        if (n > 255)
            return NULL;
        struct fs_node *child = nabla__fs_child(dir, p, n);
        if (last) {
            if (child == NULL)
                return nabla__fs_node_new(m, dir, p, n, mode);
            /* A later member replaces an earlier one of the same path, as
             * tar -x does; a directory keeps its contents. */
            if (!(S_ISDIR(child->mode) && S_ISDIR(mode))) {
                free(child->link);
                child->link = NULL;
            }
            child->mode = mode;
            return child;
        }
        if (child == NULL)
            child = nabla__fs_node_new(m, dir, p, n, S_IFDIR | 0755);
        if (child == NULL || !S_ISDIR(child->mode))
            return NULL;
        dir = child;
        p = after;
    }
}

/* The existing node at `path` (no links followed), for hard links. */
static struct fs_node *find(struct fs_mount *m, const char *path)
{
    struct fs_node *n = m->root;
    const char *p = path;
    while (n) {
        while (*p == '/')
            p++;
        if (*p == '\0')
            return n;
        const char *end = strchr(p, '/');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (!(len == 1 && p[0] == '.'))
            n = nabla__fs_child(n, p, len);
        p += len;
    }
    return NULL;
}

static int bad_archive(const char *device_name, const char *problem, uint64_t offset)
{
    char line[160];
    snprintf(line, sizeof line, "nabla: disk %s: %s at byte %llu; the members from there on are not mounted\n",
             device_name, problem, (unsigned long long)offset);
    nabla__hc()->stderrwrite(line, strlen(line));
    return nabla__fail(EIO);
}

int nabla__tar_mount(struct fs_mount *m, const char *device_name)
{
    int device = m->device;
    uint64_t end = capacity_of(device), pos = 0;
    char *long_name = NULL, *long_link = NULL, *pax_path = NULL, *pax_link = NULL, *pax_size = NULL;
    int status = 0;
    while (pos + TAR_BLOCK <= end) {
        size_t available;
        const char *h = window(device, pos, &available);
        if (h == NULL) {
            status = bad_archive(device_name, "read error", pos);
            break;
        }
        if (all_zero(h))
            break;  /* the end-of-archive blocks */
        if (!checksum_ok(h)) {
            status = bad_archive(device_name, "not a tar header (bad checksum)", pos);
            break;
        }
        uint64_t size = number(h + 124, 12);
        char type = h[156];
        uint64_t data = pos + TAR_BLOCK;
        uint64_t padded = (size + TAR_BLOCK - 1) / TAR_BLOCK * TAR_BLOCK;
        if (size > end || padded > end - data) {
            status = bad_archive(device_name, "member larger than the disk", pos);
            break;
        }
        pos = data + padded;
        char **text = type == 'L' ? &long_name : type == 'K' ? &long_link : NULL;
        if (text) {
            free(*text);
            *text = member_text(device, data, size);
            continue;
        }
        if (type == 'x') {
            char *records = member_text(device, data, size);
            if (records) {
                free(pax_path);
                free(pax_link);
                free(pax_size);
                pax_path = pax_value(records, (size_t)size, "path");
                pax_link = pax_value(records, (size_t)size, "linkpath");
                pax_size = pax_value(records, (size_t)size, "size");
                free(records);
            }
            continue;
        }
        if (type == 'g')
            continue;
        /* The member's path and link target: the long forms, else the
         * header's own fields (ustar: prefix "/" name). */
        char path[256 + 156], link[101];
        const char *name = long_name ? long_name : pax_path;
        if (name == NULL) {
            size_t at = 0;
            if (memcmp(h + 257, "ustar", 5) == 0 && h[345]) {
                at = strnlen(h + 345, 155);
                memcpy(path, h + 345, at);
                path[at++] = '/';
            }
            size_t n = strnlen(h, 100);
            memcpy(path + at, h, n);
            path[at + n] = '\0';
            name = path;
        }
        const char *target = long_link ? long_link : pax_link;
        if (target == NULL) {
            size_t n = strnlen(h + 157, 100);
            memcpy(link, h + 157, n);
            link[n] = '\0';
            target = link;
        }
        if (pax_size)
            size = strtoull(pax_size, NULL, 10);
        uint32_t perm = (uint32_t)number(h + 100, 8) & 07777;
        int64_t mtime = (int64_t)number(h + 136, 12);
        struct fs_node *node = NULL;
        switch (type) {
        case '0': case '\0': case '7':
            node = place(m, name, S_IFREG | perm);
            if (node) {
                node->size = size;
                node->offset = data;
            }
            break;
        case '5':
            node = place(m, name, S_IFDIR | perm);
            break;
        case '2':
            node = place(m, name, S_IFLNK | 0777);
            if (node && (node->link = strdup(target)) == NULL)
                node->mode = S_IFREG;   /* out of memory: an empty file rather than a link to nowhere */
            break;
        case '1': {
            struct fs_node *original = find(m, target);
            if (original && S_ISREG(original->mode)) {
                node = place(m, name, original->mode);
                if (node) {
                    node->size = original->size;
                    node->offset = original->offset;
                }
            }
            break;
        }
        default:
            break;  /* devices, FIFOs: not files a guest can use */
        }
        if (node)
            node->mtime = mtime;
        free(long_name);
        free(long_link);
        free(pax_path);
        free(pax_link);
        free(pax_size);
        long_name = long_link = pax_path = pax_link = pax_size = NULL;
    }
    free(long_name);
    free(long_link);
    free(pax_path);
    free(pax_link);
    free(pax_size);
    return status;
}
