/*
 * files.c: the POSIX file API over the guest's mounted file systems
 * (docs/files.md).
 *
 * Mounts, made the first time a path is used:
 *
 *   /      the tar archive on the block device named "root", read-only
 *          (tarfs.c), or, without one, an empty read-only directory
 *   /tmp   an in-memory file system, writable, bounded by the heap
 *
 * Every file system is a tree of nodes in guest memory (files.h), found by
 * a hash of (directory, name); a path is walked one component at a time,
 * following symbolic links (at most 40) and crossing mount points. An open
 * file is a descriptor of the library OS's one table (fd.c) with
 * file_ops. A guest that calls none of these functions links none of it.
 */
#include "files.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <nabla_fd.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define FS_NAME_MAX     255
#define FS_PATH_MAX     4096
#define FS_SYMLINK_MAX  40
#define FS_BLOCK_SIZE   65536   /* st_blksize: stdio reads and writes this much at once */

static struct fs_node *root;        /* "/" */
static struct fs_node *cwd;         /* NULL: "/" */
static uint64_t next_ino = 1;
static uint32_t next_mount_id = 1;

/* ---- Nodes -------------------------------------------------------------------------- */

static struct fs_node **buckets;
static size_t bucket_count, node_count;

static size_t hash(const struct fs_node *dir, const char *name, size_t len)
{
    uint64_t h = (uint64_t)(uintptr_t)dir * 0x9e3779b97f4a7c15ull;
    for (size_t i = 0; i < len; i++)
        h = (h ^ (uint8_t)name[i]) * 0x100000001b3ull;
    return (size_t)(h ^ (h >> 29));
}

/* Doubles the hash table when it holds more nodes than buckets. */
static int grow_buckets(void)
{
    size_t count = bucket_count ? bucket_count * 2 : 256;
    struct fs_node **fresh = calloc(count, sizeof *fresh);
    if (fresh == NULL)
        return -1;
    for (size_t i = 0; i < bucket_count; i++) {
        struct fs_node *n = buckets[i];
        while (n) {
            struct fs_node *next = n->hash_next;
            size_t b = hash(n->parent, n->name, strlen(n->name)) & (count - 1);
            n->hash_next = fresh[b];
            fresh[b] = n;
            n = next;
        }
    }
    free(buckets);
    buckets = fresh;
    bucket_count = count;
    return 0;
}

struct fs_node *nabla__fs_child(struct fs_node *dir, const char *name, size_t len)
{
    if (bucket_count == 0)
        return NULL;
    for (struct fs_node *n = buckets[hash(dir, name, len) & (bucket_count - 1)]; n; n = n->hash_next)
        if (n->parent == dir && strncmp(n->name, name, len) == 0 && n->name[len] == '\0')
            return n;
    return NULL;
}

/* Links `node` into directory `dir` under its name. */
static void attach(struct fs_node *dir, struct fs_node *node)
{
    node->parent = dir;
    size_t b = hash(dir, node->name, strlen(node->name)) & (bucket_count - 1);
    node->hash_next = buckets[b];
    buckets[b] = node;
    node->prev_sibling = NULL;
    node->next_sibling = dir->first_child;
    if (dir->first_child)
        dir->first_child->prev_sibling = node;
    dir->first_child = node;
    node_count++;
}

/* Unlinks `node` from its directory (it keeps its name). */
static void detach(struct fs_node *node)
{
    struct fs_node *dir = node->parent;
    struct fs_node **p = &buckets[hash(dir, node->name, strlen(node->name)) & (bucket_count - 1)];
    while (*p != node)
        p = &(*p)->hash_next;
    *p = node->hash_next;
    if (node->prev_sibling)
        node->prev_sibling->next_sibling = node->next_sibling;
    else
        dir->first_child = node->next_sibling;
    if (node->next_sibling)
        node->next_sibling->prev_sibling = node->prev_sibling;
    dir->generation++;
    node->parent = NULL;
    node_count--;
}

struct fs_node *nabla__fs_node_new(struct fs_mount *mount, struct fs_node *dir,
                                   const char *name, size_t len, uint32_t mode)
{
    if (node_count + 1 > bucket_count && grow_buckets() != 0) {
        nabla__fail(ENOSPC);
        return NULL;
    }
    struct fs_node *n = calloc(1, sizeof *n);
    char *copy = malloc(len + 1);
    if (n == NULL || copy == NULL) {
        free(n);
        free(copy);
        nabla__fail(ENOSPC);
        return NULL;
    }
    memcpy(copy, name, len);
    copy[len] = '\0';
    n->name = copy;
    n->mount = mount;
    n->mode = mode;
    n->ino = next_ino++;
    n->mtime = (int64_t)(nabla_clock_wall() / 1000000000u);
    if (dir)
        attach(dir, n);
    return n;
}

static void free_node(struct fs_node *n)
{
    if (n->mount->kind->release)
        n->mount->kind->release(n);
    free(n->name);
    free(n->link);
    free(n);
}

/* Removes `n` from its directory; frees it unless it is still open. */
static void remove_node(struct fs_node *n)
{
    detach(n);
    n->removed = 1;
    if (n->refs == 0)
        free_node(n);
}

static void hold(struct fs_node *n)
{
    n->refs++;
}

static void drop(struct fs_node *n)
{
    if (--n->refs == 0 && n->removed)
        free_node(n);
}

static int is_dir(const struct fs_node *n)
{
    return S_ISDIR(n->mode);
}

/* ---- The in-memory file system ------------------------------------------------------ *
 * A file's bytes are one heap buffer of `capacity` bytes; the bytes from
 * `size` to `capacity` are zero, and those past `capacity` read as zero,
 * so ftruncate grows a file without allocating. */

static ssize_t memory_read(struct fs_node *n, void *buf, size_t len, uint64_t offset)
{
    if (offset >= n->size)
        return 0;
    if (len > n->size - offset)
        len = (size_t)(n->size - offset);
    size_t stored = offset < n->capacity ? (size_t)(n->capacity - offset) : 0;
    size_t copied = len < stored ? len : stored;
    memcpy(buf, n->data + offset, copied);
    memset((char *)buf + copied, 0, len - copied);
    return (ssize_t)len;
}

/* Makes room for `end` bytes; -1 with ENOSPC if the heap has none. */
static int memory_reserve(struct fs_node *n, uint64_t end)
{
    if (end <= n->capacity)
        return 0;
    if (end > SIZE_MAX / 2)
        return nabla__fail(EFBIG);
    size_t want = n->capacity * 2 > end ? n->capacity * 2 : (size_t)end;
    if (want < 256)
        want = 256;
    char *data = realloc(n->data, want);
    if (data == NULL && want > end)
        data = realloc(n->data, want = (size_t)end);
    if (data == NULL)
        return nabla__fail(ENOSPC);
    memset(data + n->capacity, 0, want - n->capacity);
    n->data = data;
    n->capacity = want;
    return 0;
}

static ssize_t memory_write(struct fs_node *n, const void *buf, size_t len, uint64_t offset)
{
    if (len == 0)
        return 0;
    if (offset + len < offset)
        return nabla__fail(EFBIG);
    if (memory_reserve(n, offset + len) != 0)
        return -1;
    memcpy(n->data + offset, buf, len);
    if (offset + len > n->size)
        n->size = offset + len;
    return (ssize_t)len;
}

static int memory_truncate(struct fs_node *n, uint64_t size)
{
    if (size < n->size && size < n->capacity) {
        uint64_t end = n->size < n->capacity ? n->size : n->capacity;
        memset(n->data + size, 0, (size_t)(end - size));
    }
    n->size = size;
    return 0;
}

static void memory_release(struct fs_node *n)
{
    free(n->data);
}

static const struct fs_kind memory_kind = {
    .name = "memory",
    .read = memory_read,
    .write = memory_write,
    .truncate = memory_truncate,
    .release = memory_release,
};

/* ---- Mounts ------------------------------------------------------------------------------ */

static struct fs_mount *new_mount(const struct fs_kind *kind, int device, int readonly)
{
    struct fs_mount *m = calloc(1, sizeof *m);
    if (m == NULL)
        return NULL;
    m->kind = kind;
    m->device = device;
    m->readonly = readonly;
    m->id = next_mount_id++;
    m->root = nabla__fs_node_new(m, NULL, "", 0, S_IFDIR | 0755);
    if (m->root == NULL) {
        free(m);
        return NULL;
    }
    return m;
}

/* Mounts `m` on directory `path` (one component under "/"), making the
 * directory if the file system below has none. */
static void mount_at(const char *name, struct fs_mount *m)
{
    struct fs_node *point = nabla__fs_child(root, name, strlen(name));
    if (point == NULL)
        point = nabla__fs_node_new(root->mount, root, name, strlen(name), S_IFDIR | 01777);
    if (point == NULL || !is_dir(point) || point->mounted)
        return;
    point->mounted = m->root;
    m->root->covered = point;
}

static void fatal_mount(const char *what)
{
    nabla__console_str(what);
    abort();
}

/* Mounts everything, once. */
static void mount_all(void)
{
    if (root)
        return;
    int disk = nabla_device_find("root", NABLA_DEVICE_BLOCK);
    struct fs_mount *top = new_mount(disk >= 0 ? &nabla__tar_kind : &memory_kind, disk, 1);
    if (top == NULL)
        fatal_mount("nabla: no memory for the root file system\n");
    root = top->root;
    /* A damaged archive is reported once, on standard error (tarfs.c);
     * the guest sees the members before the damage. */
    if (disk >= 0)
        nabla__tar_mount(top, "root");
    struct fs_mount *tmp = new_mount(&memory_kind, -1, 0);
    if (tmp)
        mount_at("tmp", tmp);
}

/* ---- Walking paths ------------------------------------------------------------------------ */

struct walk {
    struct fs_node *dir;        /* the directory holding the last component */
    struct fs_node *node;       /* what the path names, or NULL if it does not exist */
    char name[FS_NAME_MAX + 1]; /* the last component */
    int dots;                   /* the last component is "." or ".." */
    int slash;                  /* the path ends in "/" */
};

#define WALK_FOLLOW 1           /* follow a symbolic link in the last component */

/* What covers `n`, if it is a mount point. */
static struct fs_node *covering(struct fs_node *n)
{
    while (n->mounted)
        n = n->mounted;
    return n;
}

static struct fs_node *up(struct fs_node *n)
{
    if (n == root)
        return n;
    while (n->covered)
        n = n->covered;
    return n->parent ? n->parent : n;
}

static struct fs_node *working_directory(void)
{
    return cwd ? cwd : root;
}

static const struct nabla_fd_ops file_ops;

struct open_file {
    struct fs_node *node;
    uint64_t position;
    int flags;                  /* open's flags: access mode, O_APPEND, O_NONBLOCK */
    /* A directory being read: entry `index` is next; `next` is its node
     * while the directory's generation is still `generation`. */
    uint64_t index;
    struct fs_node *next;
    uint32_t generation;
};

/* The directory a *at call starts from. */
static int start_dir(int dirfd, const char *path, struct fs_node **out)
{
    if (path[0] == '/') {
        *out = root;
        return 0;
    }
    if (dirfd == AT_FDCWD) {
        *out = working_directory();
        return 0;
    }
    struct open_file *f = nabla_fd_object(dirfd, &file_ops, ENOTDIR);
    if (f == NULL)
        return -1;
    if (!is_dir(f->node))
        return nabla__fail(ENOTDIR);
    *out = f->node;
    return 0;
}

/* Walks `path` from `dirfd`. 0 with *w filled (w->node NULL if only the
 * last component is missing), or -1 with errno set. */
static int walk(int dirfd, const char *path, int flags, struct walk *w)
{
    mount_all();
    if (path == NULL)
        return nabla__fail(EFAULT);
    size_t len = strlen(path);
    if (len == 0)
        return nabla__fail(ENOENT);
    if (len >= FS_PATH_MAX)
        return nabla__fail(ENAMETOOLONG);
    static char rest[FS_PATH_MAX * 2], spliced[FS_PATH_MAX * 2];
    memcpy(rest, path, len + 1);
    struct fs_node *cur;
    if (start_dir(dirfd, path, &cur) != 0)
        return -1;
    int links = 0;
    const char *p = rest;
    memset(w, 0, sizeof *w);
    for (;;) {
        while (*p == '/')
            p++;
        if (*p == '\0') {
            /* "/" or a path that ends in slashes after a directory. */
            w->node = cur;
            w->dir = up(cur);
            strcpy(w->name, ".");
            w->dots = 1;
            w->slash = 1;
            return 0;
        }
        const char *end = strchr(p, '/');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        if (n > FS_NAME_MAX)
            return nabla__fail(ENAMETOOLONG);
        const char *after = p + n;
        while (*after == '/')
            after++;
        int last = *after == '\0';
        int slash = last && end != NULL;
        if (!is_dir(cur))
            return nabla__fail(ENOTDIR);
        struct fs_node *next;
        int dots = (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.');
        if (dots)
            next = n == 1 ? cur : up(cur);
        else
            next = nabla__fs_child(cur, p, n);
        if (next && S_ISLNK(next->mode) && (!last || slash || (flags & WALK_FOLLOW))) {
            if (++links > FS_SYMLINK_MAX)
                return nabla__fail(ELOOP);
            size_t tl = strlen(next->link), rl = strlen(after);
            if (tl == 0)
                return nabla__fail(ENOENT);
            if (tl + 1 + rl >= sizeof spliced)
                return nabla__fail(ENAMETOOLONG);
            memcpy(spliced, next->link, tl);
            spliced[tl] = '/';
            memcpy(spliced + tl + 1, after, rl + 1);
            if (last && !slash)
                spliced[tl] = '\0';  /* the link was the whole rest */
            memcpy(rest, spliced, tl + 1 + rl + 1);
            if (rest[0] == '/')
                cur = root;
            p = rest;
            continue;
        }
        if (next)
            next = covering(next);
        if (last) {
            w->dir = cur;
            memcpy(w->name, p, n);
            w->name[n] = '\0';
            w->node = next;
            w->dots = dots;
            w->slash = slash;
            if (next && slash && !is_dir(next) && !S_ISLNK(next->mode))
                return nabla__fail(ENOTDIR);
            return 0;
        }
        if (next == NULL)
            return nabla__fail(ENOENT);
        cur = next;
        p = after;
    }
}

/* Walks to an existing node. */
static struct fs_node *resolve(int dirfd, const char *path, int flags)
{
    struct walk w;
    if (walk(dirfd, path, flags, &w) != 0)
        return NULL;
    if (w.node == NULL) {
        nabla__fail(ENOENT);
        return NULL;
    }
    return w.node;
}

/* ---- Open files ------------------------------------------------------------------------ */

static int readable(const struct open_file *f)
{
    return (f->flags & O_ACCMODE) != O_WRONLY;
}

static int writable(const struct open_file *f)
{
    return (f->flags & O_ACCMODE) != O_RDONLY;
}

static ssize_t file_pread(void *obj, void *buf, size_t len, off_t offset)
{
    struct open_file *f = obj;
    if (!readable(f))
        return nabla__fail(EBADF);
    if (is_dir(f->node))
        return nabla__fail(EISDIR);
    return f->node->mount->kind->read(f->node, buf, len, (uint64_t)offset);
}

static ssize_t file_pwrite(void *obj, const void *buf, size_t len, off_t offset)
{
    struct open_file *f = obj;
    if (!writable(f))
        return nabla__fail(EBADF);
    /* Linux's pwrite on an O_APPEND file appends, whatever the offset. */
    uint64_t at = (f->flags & O_APPEND) ? f->node->size : (uint64_t)offset;
    ssize_t n = f->node->mount->kind->write(f->node, buf, len, at);
    if (n > 0)
        f->node->mtime = (int64_t)(nabla_clock_wall() / 1000000000u);
    return n;
}

static ssize_t file_read(void *obj, void *buf, size_t len)
{
    struct open_file *f = obj;
    ssize_t n = file_pread(f, buf, len, (off_t)f->position);
    if (n > 0)
        f->position += (uint64_t)n;
    return n;
}

static ssize_t file_write(void *obj, const void *buf, size_t len)
{
    struct open_file *f = obj;
    if (writable(f) && (f->flags & O_APPEND))
        f->position = f->node->size;
    ssize_t n = file_pwrite(f, buf, len, (off_t)f->position);
    if (n > 0)
        f->position += (uint64_t)n;
    return n;
}

static off_t file_lseek(void *obj, off_t offset, int whence)
{
    struct open_file *f = obj;
    int64_t base;
    switch (whence) {
    case SEEK_SET: base = 0; break;
    case SEEK_CUR: base = (int64_t)f->position; break;
    case SEEK_END: base = (int64_t)f->node->size; break;
    default: return nabla__fail(EINVAL);
    }
    if ((offset < 0 && base + offset < 0) || (offset > 0 && base > INT64_MAX - offset))
        return nabla__fail(EINVAL);
    f->position = (uint64_t)(base + offset);
    if (is_dir(f->node) && f->position == 0) {
        f->index = 0;
        f->next = NULL;
    }
    return (off_t)f->position;
}

static void fill_stat(const struct fs_node *n, struct stat *st)
{
    memset(st, 0, sizeof *st);
    st->st_dev = n->mount->id;
    st->st_ino = (ino_t)n->ino;
    st->st_mode = (mode_t)n->mode;
    st->st_nlink = 1;   /* directories too: "unknown", as on btrfs, so no tool counts subdirectories by it */
    st->st_uid = (uid_t)nabla__info->uid;
    st->st_gid = (gid_t)nabla__info->gid;
    st->st_size = S_ISLNK(n->mode) ? (off_t)strlen(n->link) : (off_t)n->size;
    st->st_blksize = FS_BLOCK_SIZE;
    st->st_blocks = (blkcnt_t)((n->size + 511) / 512);
    st->st_atim.tv_sec = st->st_mtim.tv_sec = st->st_ctim.tv_sec = (time_t)n->mtime;
}

static int file_fstat(void *obj, struct stat *st)
{
    struct open_file *f = obj;
    fill_stat(f->node, st);
    return 0;
}

/* Sets a regular file's size (ftruncate, truncate, O_TRUNC). */
static int set_size(struct fs_node *n, uint64_t size)
{
    if (n->mount->readonly || n->mount->kind->truncate == NULL)
        return nabla__fail(EROFS);
    if (is_dir(n))
        return nabla__fail(EISDIR);
    if (!S_ISREG(n->mode))
        return nabla__fail(EINVAL);
    if (n->mount->kind->truncate(n, size) != 0)
        return -1;
    n->mtime = (int64_t)(nabla_clock_wall() / 1000000000u);
    return 0;
}

static int file_ftruncate(void *obj, off_t length)
{
    struct open_file *f = obj;
    if (!writable(f))
        return nabla__fail(EINVAL);
    return set_size(f->node, (uint64_t)length);
}

static int file_fsync(void *obj)
{
    (void)obj;
    /* A tar root is read-only and /tmp lives in memory: nothing to flush. */
    return 0;
}

static int file_getfl(void *obj)
{
    struct open_file *f = obj;
    return f->flags & (O_ACCMODE | O_APPEND | O_NONBLOCK);
}

static int file_setfl(void *obj, int flags)
{
    struct open_file *f = obj;
    f->flags = (f->flags & ~(O_APPEND | O_NONBLOCK)) | (flags & (O_APPEND | O_NONBLOCK));
    return 0;
}

static int file_close(void *obj)
{
    struct open_file *f = obj;
    drop(f->node);
    free(f);
    return 0;
}

static const struct nabla_fd_ops file_ops = {
    .read = file_read,
    .write = file_write,
    .pread = file_pread,
    .pwrite = file_pwrite,
    .lseek = file_lseek,
    .fstat = file_fstat,
    .ftruncate = file_ftruncate,
    .fsync = file_fsync,
    .getfl = file_getfl,
    .setfl = file_setfl,
    .close = file_close,
};

/* ---- Opening ------------------------------------------------------------------------------ */

int openat(int dirfd, const char *path, int flags, ...)
{
    mode_t mode = 0;
    if (flags & O_CREAT) {
        va_list ap;
        va_start(ap, flags);
        mode = (mode_t)va_arg(ap, int);
        va_end(ap);
    }
    int access = flags & O_ACCMODE;
    if (access != O_RDONLY && access != O_WRONLY && access != O_RDWR)
        return nabla__fail(EINVAL);
    struct walk w;
    if (walk(dirfd, path, (flags & O_NOFOLLOW) ? 0 : WALK_FOLLOW, &w) != 0)
        return -1;
    struct fs_node *n = w.node;
    if (n == NULL) {
        if (!(flags & O_CREAT))
            return nabla__fail(ENOENT);
        if (w.slash)
            return nabla__fail(EISDIR);
        if (w.dir->mount->readonly)
            return nabla__fail(EROFS);
        if (w.dir->removed)
            return nabla__fail(ENOENT);
        n = nabla__fs_node_new(w.dir->mount, w.dir, w.name, strlen(w.name), S_IFREG | (mode & 07777));
        if (n == NULL)
            return -1;
    } else {
        if ((flags & O_CREAT) && (flags & O_EXCL))
            return nabla__fail(EEXIST);
        if (S_ISLNK(n->mode))
            return nabla__fail(ELOOP);  /* O_NOFOLLOW */
        if (is_dir(n) && (access != O_RDONLY || (flags & O_TRUNC) || (flags & O_CREAT)))
            return nabla__fail(EISDIR);
        if ((flags & O_DIRECTORY) && !is_dir(n))
            return nabla__fail(ENOTDIR);
        if (access != O_RDONLY && n->mount->readonly)
            return nabla__fail(EROFS);
        if ((flags & O_TRUNC) && access != O_RDONLY && S_ISREG(n->mode) && n->size > 0 && set_size(n, 0) != 0)
            return -1;
    }
    struct open_file *f = calloc(1, sizeof *f);
    if (f == NULL)
        return nabla__fail(ENOMEM);
    f->node = n;
    f->flags = flags;
    int fd = nabla_fd_open(&file_ops, f);
    if (fd < 0) {
        free(f);
        return -1;
    }
    hold(n);
    return fd;
}

int open(const char *path, int flags, ...)
{
    mode_t mode = 0;
    if (flags & O_CREAT) {
        va_list ap;
        va_start(ap, flags);
        mode = (mode_t)va_arg(ap, int);
        va_end(ap);
    }
    return openat(AT_FDCWD, path, flags, mode);
}

int creat(const char *path, mode_t mode)
{
    return open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
}

/* ---- Names -------------------------------------------------------------------------------- */

int fstatat(int dirfd, const char *path, struct stat *st, int flags)
{
    struct fs_node *n = resolve(dirfd, path, (flags & AT_SYMLINK_NOFOLLOW) ? 0 : WALK_FOLLOW);
    if (n == NULL)
        return -1;
    fill_stat(n, st);
    return 0;
}

int stat(const char *path, struct stat *st)
{
    return fstatat(AT_FDCWD, path, st, 0);
}

int lstat(const char *path, struct stat *st)
{
    return fstatat(AT_FDCWD, path, st, AT_SYMLINK_NOFOLLOW);
}

int faccessat(int dirfd, const char *path, int mode, int flags)
{
    (void)flags;
    if (mode & ~(R_OK | W_OK | X_OK))
        return nabla__fail(EINVAL);
    struct fs_node *n = resolve(dirfd, path, WALK_FOLLOW);
    if (n == NULL)
        return -1;
    /* One user, who owns every file: only the mount and the execute bits
     * can refuse. */
    if ((mode & W_OK) && n->mount->readonly)
        return nabla__fail(EROFS);
    if ((mode & X_OK) && !is_dir(n) && !(n->mode & 0111))
        return nabla__fail(EACCES);
    return 0;
}

int access(const char *path, int mode)
{
    return faccessat(AT_FDCWD, path, mode, 0);
}

/* The checks every call that changes a directory makes. */
static int changeable(const struct walk *w)
{
    if (w->dir->mount->readonly)
        return nabla__fail(EROFS);
    if (w->dir->removed)
        return nabla__fail(ENOENT);
    return 0;
}

int mkdirat(int dirfd, const char *path, mode_t mode)
{
    struct walk w;
    if (walk(dirfd, path, 0, &w) != 0)
        return -1;
    if (w.node != NULL)
        return nabla__fail(EEXIST);
    if (changeable(&w) != 0)
        return -1;
    return nabla__fs_node_new(w.dir->mount, w.dir, w.name, strlen(w.name), S_IFDIR | (mode & 07777)) ? 0 : -1;
}

int mkdir(const char *path, mode_t mode)
{
    return mkdirat(AT_FDCWD, path, mode);
}

int symlink(const char *target, const char *path)
{
    struct walk w;
    if (target == NULL)
        return nabla__fail(EFAULT);
    if (walk(AT_FDCWD, path, 0, &w) != 0)
        return -1;
    if (w.node != NULL)
        return nabla__fail(EEXIST);
    if (changeable(&w) != 0)
        return -1;
    char *copy = strdup(target);
    if (copy == NULL)
        return nabla__fail(ENOSPC);
    struct fs_node *n = nabla__fs_node_new(w.dir->mount, w.dir, w.name, strlen(w.name), S_IFLNK | 0777);
    if (n == NULL) {
        free(copy);
        return -1;
    }
    n->link = copy;
    return 0;
}

ssize_t readlink(const char *path, char *buf, size_t size)
{
    struct fs_node *n = resolve(AT_FDCWD, path, 0);
    if (n == NULL)
        return -1;
    if (!S_ISLNK(n->mode))
        return nabla__fail(EINVAL);
    size_t len = strlen(n->link);
    if (len > size)
        len = size;
    memcpy(buf, n->link, len);
    return (ssize_t)len;
}

/* A node that is a mount point or a mounted root cannot go. */
static int busy(const struct fs_node *n)
{
    return n == root || n->covered != NULL || n->mounted != NULL;
}

int unlinkat(int dirfd, const char *path, int flags)
{
    struct walk w;
    if (walk(dirfd, path, 0, &w) != 0)
        return -1;
    int rmdir_ = (flags & AT_REMOVEDIR) != 0;
    if (w.node == NULL)
        return nabla__fail(ENOENT);
    struct fs_node *n = w.node;
    if (rmdir_) {
        if (!is_dir(n))
            return nabla__fail(ENOTDIR);
        if (w.dots)
            return nabla__fail(strcmp(w.name, "..") == 0 ? ENOTEMPTY : EINVAL);
        if (busy(n))
            return nabla__fail(EBUSY);
        if (changeable(&w) != 0)
            return -1;
        if (n->first_child)
            return nabla__fail(ENOTEMPTY);
    } else {
        if (is_dir(n))
            return nabla__fail(EISDIR);
        if (changeable(&w) != 0)
            return -1;
    }
    remove_node(n);
    return 0;
}

int unlink(const char *path)
{
    return unlinkat(AT_FDCWD, path, 0);
}

int rmdir(const char *path)
{
    return unlinkat(AT_FDCWD, path, AT_REMOVEDIR);
}

int rename(const char *from, const char *to)
{
    struct walk a, b;
    if (walk(AT_FDCWD, from, 0, &a) != 0)
        return -1;
    if (a.node == NULL)
        return nabla__fail(ENOENT);
    if (walk(AT_FDCWD, to, 0, &b) != 0)
        return -1;
    struct fs_node *n = a.node, *old = b.node;
    /* Linux's order: another mount, then a read-only one. */
    if (a.dir->mount != b.dir->mount)
        return nabla__fail(EXDEV);
    if (changeable(&a) != 0 || changeable(&b) != 0)
        return -1;
    if (a.dots || b.dots || busy(n))
        return nabla__fail(a.dots || b.dots ? EINVAL : EBUSY);
    if (old == n)
        return 0;
    /* A directory cannot move into itself. */
    for (struct fs_node *d = b.dir; d; d = d->parent)
        if (d == n)
            return nabla__fail(EINVAL);
    if (old) {
        if (busy(old))
            return nabla__fail(EBUSY);
        if (is_dir(n) && !is_dir(old))
            return nabla__fail(ENOTDIR);
        if (!is_dir(n) && is_dir(old))
            return nabla__fail(EISDIR);
        if (is_dir(old) && old->first_child)
            return nabla__fail(ENOTEMPTY);
    } else if (b.slash && !is_dir(n)) {
        return nabla__fail(ENOTDIR);
    }
    char *name = strdup(b.name);
    if (name == NULL)
        return nabla__fail(ENOSPC);
    if (old)
        remove_node(old);
    detach(n);
    free(n->name);
    n->name = name;
    attach(b.dir, n);
    return 0;
}

int truncate(const char *path, off_t length)
{
    if (length < 0)
        return nabla__fail(EINVAL);
    struct fs_node *n = resolve(AT_FDCWD, path, WALK_FOLLOW);
    return n == NULL ? -1 : set_size(n, (uint64_t)length);
}

int chmod(const char *path, mode_t mode)
{
    struct fs_node *n = resolve(AT_FDCWD, path, WALK_FOLLOW);
    if (n == NULL)
        return -1;
    if (n->mount->readonly)
        return nabla__fail(EROFS);
    n->mode = (n->mode & S_IFMT) | (mode & 07777);
    return 0;
}

/* ---- The working directory ------------------------------------------------------------ */

int chdir(const char *path)
{
    struct fs_node *n = resolve(AT_FDCWD, path, WALK_FOLLOW);
    if (n == NULL)
        return -1;
    if (!is_dir(n))
        return nabla__fail(ENOTDIR);
    hold(n);
    if (cwd)
        drop(cwd);
    cwd = n;
    return 0;
}

int fchdir(int fd)
{
    struct open_file *f = nabla_fd_object(fd, &file_ops, ENOTDIR);
    if (f == NULL)
        return -1;
    if (!is_dir(f->node))
        return nabla__fail(ENOTDIR);
    hold(f->node);
    if (cwd)
        drop(cwd);
    cwd = f->node;
    return 0;
}

/* Writes the absolute path of directory `n` into buf (size bytes). */
static int path_of(struct fs_node *n, char *buf, size_t size)
{
    if (n->removed)
        return nabla__fail(ENOENT);
    size_t at = size;
    if (at == 0)
        return nabla__fail(ERANGE);
    buf[--at] = '\0';
    while (n != root) {
        while (n->covered)
            n = n->covered;
        if (n == root)
            break;
        size_t len = strlen(n->name);
        if (at < len + 1)
            return nabla__fail(ERANGE);
        at -= len;
        memcpy(buf + at, n->name, len);
        buf[--at] = '/';
        n = n->parent;
    }
    if (at == size - 1) {
        if (at == 0)
            return nabla__fail(ERANGE);
        buf[--at] = '/';
    }
    memmove(buf, buf + at, size - at);
    return 0;
}

char *getcwd(char *buf, size_t size)
{
    mount_all();
    char *out = buf;
    if (out == NULL) {
        size = size ? size : FS_PATH_MAX;
        out = malloc(size);
        if (out == NULL) {
            nabla__fail(ENOMEM);
            return NULL;
        }
    } else if (size == 0) {
        nabla__fail(EINVAL);
        return NULL;
    }
    if (path_of(working_directory(), out, size) != 0) {
        if (buf == NULL)
            free(out);
        return NULL;
    }
    return out;
}

char *realpath(const char *path, char *resolved)
{
    struct fs_node *n = resolve(AT_FDCWD, path, WALK_FOLLOW);
    if (n == NULL)
        return NULL;
    char *out = resolved ? resolved : malloc(PATH_MAX);
    if (out == NULL) {
        nabla__fail(ENOMEM);
        return NULL;
    }
    int status;
    if (is_dir(n)) {
        status = path_of(n, out, PATH_MAX);
    } else {
        /* A file: its directory's path, then its name. */
        status = path_of(n->parent, out, PATH_MAX);
        size_t at = strlen(out), len = strlen(n->name);
        if (status == 0 && at + 1 + len + 1 > PATH_MAX)
            status = nabla__fail(ENAMETOOLONG);
        if (status == 0) {
            if (at > 1)
                out[at++] = '/';
            memcpy(out + at, n->name, len + 1);
        }
    }
    if (status != 0) {
        if (resolved == NULL)
            free(out);
        return NULL;
    }
    return out;
}

/* ---- Directories ------------------------------------------------------------------------------ */

DIR *fdopendir(int fd)
{
    struct open_file *f = nabla_fd_object(fd, &file_ops, ENOTDIR);
    if (f == NULL)
        return NULL;
    if (!is_dir(f->node)) {
        nabla__fail(ENOTDIR);
        return NULL;
    }
    DIR *d = calloc(1, sizeof *d);
    if (d == NULL) {
        nabla__fail(ENOMEM);
        return NULL;
    }
    d->fd = fd;
    return d;
}

DIR *opendir(const char *path)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY);
    if (fd < 0)
        return NULL;
    DIR *d = fdopendir(fd);
    if (d == NULL)
        close(fd);
    return d;
}

static unsigned char type_of(const struct fs_node *n)
{
    switch (n->mode & S_IFMT) {
    case S_IFDIR: return DT_DIR;
    case S_IFREG: return DT_REG;
    case S_IFLNK: return DT_LNK;
    default: return DT_UNKNOWN;
    }
}

struct dirent *readdir(DIR *d)
{
    struct open_file *f = nabla_fd_object(d->fd, &file_ops, ENOTDIR);
    if (f == NULL)
        return NULL;
    struct fs_node *dir = f->node;
    struct fs_node *n;
    const char *name;
    /* Entries 0 and 1 are "." and "..", then the directory's own. */
    if (f->index < 2) {
        n = f->index == 0 ? dir : up(dir);
        name = f->index == 0 ? "." : "..";
    } else {
        if (f->next == NULL || f->generation != dir->generation) {
            /* First read, or something was removed since: count again. */
            n = dir->first_child;
            for (uint64_t i = 2; n && i < f->index; i++)
                n = n->next_sibling;
        } else {
            n = f->next;
        }
        if (n == NULL)
            return NULL;   /* the end: errno unchanged */
        f->next = n->next_sibling;
        f->generation = dir->generation;
        name = n->name;
        n = covering(n);
    }
    f->index++;
    d->entry.d_ino = (ino_t)n->ino;
    d->entry.d_off = (off_t)f->index;
    d->entry.d_reclen = sizeof d->entry;
    d->entry.d_type = type_of(n);
    strncpy(d->entry.d_name, name, sizeof d->entry.d_name - 1);
    d->entry.d_name[sizeof d->entry.d_name - 1] = '\0';
    return &d->entry;
}

void rewinddir(DIR *d)
{
    lseek(d->fd, 0, SEEK_SET);
}

int dirfd(DIR *d)
{
    return d->fd;
}

int closedir(DIR *d)
{
    int status = close(d->fd);
    free(d);
    return status;
}
