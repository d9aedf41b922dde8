/*
 * tar.h: a read-only index of a ustar archive on a block device, as made by
 * `tar -cf site.tar -C dir .` (GNU or POSIX format).
 */
#ifndef HTTPD_TAR_H
#define HTTPD_TAR_H

#include <nabla.h>

struct tar_entry {
    char    *path;          /* normalised: no leading "./" or "/", no trailing "/"; "" is the root */
    uint64_t offset;        /* byte offset of the data on the disk (512-aligned) */
    uint64_t size;          /* bytes */
    uint8_t  is_dir;
};

struct tar_index {
    int handle;                     /* the block device */
    uint64_t capacity;              /* bytes */
    struct tar_entry *entries;
    size_t count, cap;
    uint32_t *slots;                /* hash table of entry index + 1 (0: empty) */
    size_t slot_count;              /* a power of two */
};

/* Reads every header of the archive on device `handle`. Returns 0, or -1
 * after printing a line that names the problem (a bad checksum, a header
 * past the end of the disk, out of memory). Symbolic and hard links,
 * devices and FIFOs are skipped: they are not served. */
int tar_load(struct tar_index *t, int handle);

/* The entry for a normalised path, or NULL. */
const struct tar_entry *tar_find(const struct tar_index *t, const char *path, size_t len);

#endif
