/*
 * files.h: what the file layer (files.c) shares with the file system
 * kinds (tarfs.c; memory in files.c). Every mounted file system is a
 * tree of nodes in guest memory: a tar archive's index, built once when
 * it is mounted, or an in-memory file system's files themselves. A kind
 * says how a regular file's bytes are read and written.
 */
#ifndef NABLA_FILES_H
#define NABLA_FILES_H

#include "libos.h"

#include <sys/stat.h>
#include <sys/types.h>

struct fs_node;

/* How a kind of file system reads and writes a regular file's bytes.
 * Each returns the count, or -1 with errno set. write and truncate are
 * NULL for a read-only kind. */
struct fs_kind {
    const char *name;
    ssize_t (*read)(struct fs_node *node, void *buf, size_t len, uint64_t offset);
    ssize_t (*write)(struct fs_node *node, const void *buf, size_t len, uint64_t offset);
    int (*truncate)(struct fs_node *node, uint64_t size);
    void (*release)(struct fs_node *node);  /* frees a removed file's contents */
};

struct fs_mount {
    const struct fs_kind *kind;
    struct fs_node *root;
    int device;                 /* block device handle, or -1 */
    int readonly;
    uint32_t id;                /* st_dev */
};

struct fs_node {
    struct fs_node *parent;     /* NULL for a file system's root */
    struct fs_node *first_child, *next_sibling, *prev_sibling;
    struct fs_node *hash_next;  /* the (parent, name) hash chain */
    struct fs_mount *mount;
    struct fs_node *mounted;    /* a mount point: the root of what covers it */
    struct fs_node *covered;    /* a mount's root: the mount point under it */
    char *name;
    char *link;                 /* a symbolic link's target */
    uint32_t mode;              /* S_IF* and permission bits */
    uint32_t refs;              /* open descriptions and the working directory */
    uint32_t generation;        /* a directory: bumped by every removal */
    uint8_t removed;            /* unlinked; freed when refs reaches 0 */
    uint64_t ino;
    uint64_t size;
    int64_t mtime;              /* seconds since the epoch */
    uint64_t offset;            /* tar: the byte offset of the data on its disk */
    char *data;                 /* memory: the contents, `capacity` bytes */
    size_t capacity;
};

/* A new node `name` (`len` bytes) in directory `dir` (NULL: a root), or
 * NULL with errno ENOSPC. */
struct fs_node *nabla__fs_node_new(struct fs_mount *mount, struct fs_node *dir,
                                   const char *name, size_t len, uint32_t mode);
/* The child `name` (`len` bytes) of `dir`, or NULL. */
struct fs_node *nabla__fs_child(struct fs_node *dir, const char *name, size_t len);

/* The tar kind (tarfs.c): read-only, read straight from the disk. */
extern const struct fs_kind nabla__tar_kind;

/* Builds the index of the tar archive on mount->device (tarfs.c); 0, or
 * -1 with errno EIO after a line on standard error naming the problem. */
int nabla__tar_mount(struct fs_mount *mount, const char *device_name);

#endif
