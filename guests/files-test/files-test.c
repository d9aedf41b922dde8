/*
 * files-test: the library OS's file API (guests/libos/files.c, fd.c,
 * tarfs.c), each call and each misuse with its errno.
 *
 * The tests of the root file system need the archive FilesTests makes
 * (Tests/NablaTests/FilesTests.swift) on the disk named "root":
 *
 *   etc/greeting    "hello from the root\n"
 *   dir/a, dir/b    "a\n", "b\n"
 *   dir/sub/        an empty directory
 *   link            a symbolic link to etc/greeting
 *   dir/up          a symbolic link to ../etc
 *   loop            a symbolic link to itself
 *   big             1 MiB + 100 bytes, byte i is i % 251
 *
 * Without it they skip; the tests of /tmp, descriptors and paths need
 * nothing.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <nabla_test.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The errno of a call that must fail with -1 (or NULL). */
#define CHECK_ERRNO(call, code)                                         \
    do {                                                                \
        errno = 0;                                                      \
        long long r_ = (long long)(intptr_t)(call);                     \
        CHECK(r_ == -1 || r_ == 0);                                     \
        CHECK_EQ(errno, code);                                          \
    } while (0)

static void need_root(void)
{
    if (nabla_device_find("root", NABLA_DEVICE_BLOCK) < 0)
        NABLA_SKIP("no disk named root");
}

static char *slurp(const char *path)
{
    static char buf[4096];
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return NULL;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n < 0)
        return NULL;
    buf[n] = '\0';
    return buf;
}

NABLA_TEST(root_read)
{
    need_root();
    int fd = open("/etc/greeting", O_RDONLY);
    REQUIRE(fd >= 3);
    char buf[64] = {0};
    CHECK_EQ(read(fd, buf, sizeof buf), 20);
    CHECK_STREQ(buf, "hello from the root\n");
    CHECK_EQ(read(fd, buf, sizeof buf), 0);
    struct stat st;
    CHECK_EQ(fstat(fd, &st), 0);
    CHECK_EQ(st.st_size, 20);
    CHECK(S_ISREG(st.st_mode));
    CHECK_EQ(lseek(fd, -5, SEEK_END), 15);
    memset(buf, 0, sizeof buf);
    CHECK_EQ(read(fd, buf, 4), 4);
    CHECK_STREQ(buf, "root");
    memset(buf, 0, sizeof buf);
    CHECK_EQ(pread(fd, buf, 5, 6), 5);
    CHECK_STREQ(buf, "from ");
    CHECK_ERRNO(lseek(fd, -100, SEEK_SET), EINVAL);
    CHECK_ERRNO(write(fd, "x", 1), EBADF);
    CHECK_EQ(close(fd), 0);
    CHECK_ERRNO(close(fd), EBADF);
    CHECK_STREQ(slurp("/dir/a"), "a\n");
    CHECK_STREQ(slurp("dir/../dir/./b"), "b\n");
}

NABLA_TEST(root_is_read_only)
{
    need_root();
    CHECK_ERRNO(open("/etc/greeting", O_WRONLY), EROFS);
    CHECK_ERRNO(open("/etc/greeting", O_RDWR), EROFS);
    CHECK_ERRNO(open("/etc/new", O_WRONLY | O_CREAT, 0644), EROFS);
    CHECK_ERRNO(mkdir("/etc/new", 0755), EROFS);
    CHECK_ERRNO(unlink("/etc/greeting"), EROFS);
    CHECK_ERRNO(rmdir("/dir/sub"), EROFS);
    CHECK_ERRNO(rename("/dir/a", "/dir/c"), EROFS);
    CHECK_ERRNO(truncate("/etc/greeting", 0), EROFS);
    CHECK_ERRNO(access("/etc/greeting", W_OK), EROFS);
    CHECK_EQ(access("/etc/greeting", R_OK), 0);
    CHECK_ERRNO(rename("/tmp", "/tmp2"), EROFS);
}

NABLA_TEST(root_errors)
{
    need_root();
    CHECK_ERRNO(open("/nonexistent", O_RDONLY), ENOENT);
    CHECK_ERRNO(open("/nonexistent/x", O_RDONLY), ENOENT);
    CHECK_ERRNO(open("/etc/greeting/x", O_RDONLY), ENOTDIR);
    CHECK_ERRNO(open("/etc/greeting/", O_RDONLY), ENOTDIR);
    CHECK_ERRNO(open("/etc", O_WRONLY), EISDIR);
    CHECK_ERRNO(open("/etc/greeting", O_RDONLY | O_DIRECTORY), ENOTDIR);
    CHECK_ERRNO(open("", O_RDONLY), ENOENT);
    CHECK_ERRNO(open("/loop", O_RDONLY), ELOOP);
    CHECK_ERRNO(open("/link", O_RDONLY | O_NOFOLLOW), ELOOP);
    CHECK_ERRNO(mkdir("/etc", 0755), EEXIST);
    CHECK_ERRNO(rmdir("/etc/greeting"), ENOTDIR);
    CHECK_ERRNO(unlink("/etc"), EISDIR);
    int fd = open("/etc", O_RDONLY);
    REQUIRE(fd >= 0);
    char c;
    CHECK_ERRNO(read(fd, &c, 1), EISDIR);
    close(fd);
    char name[300];
    memset(name, 'n', sizeof name - 1);
    name[0] = '/';
    name[sizeof name - 1] = '\0';
    CHECK_ERRNO(open(name, O_RDONLY), ENAMETOOLONG);
}

NABLA_TEST(symbolic_links)
{
    need_root();
    struct stat st;
    CHECK_EQ(stat("/link", &st), 0);
    CHECK(S_ISREG(st.st_mode));
    CHECK_EQ(st.st_size, 20);
    CHECK_EQ(lstat("/link", &st), 0);
    CHECK(S_ISLNK(st.st_mode));
    char target[64] = {0};
    CHECK_EQ(readlink("/link", target, sizeof target), 12);
    CHECK_STREQ(target, "etc/greeting");
    CHECK_ERRNO(readlink("/etc/greeting", target, sizeof target), EINVAL);
    CHECK_STREQ(slurp("/link"), "hello from the root\n");
    CHECK_STREQ(slurp("/dir/up/greeting"), "hello from the root\n");
    char resolved[PATH_MAX];
    CHECK_STREQ(realpath("/dir/up/greeting", resolved), "/etc/greeting");
    CHECK_STREQ(realpath("/link", resolved), "/etc/greeting");
    CHECK_STREQ(realpath("/dir/up", resolved), "/etc");
    CHECK_ERRNO(realpath("/dir/none", resolved), ENOENT);
}

NABLA_TEST(directories)
{
    need_root();
    DIR *d = opendir("/dir");
    REQUIRE(d != NULL);
    int seen = 0, count = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        count++;
        if (strcmp(e->d_name, ".") == 0) seen |= 1;
        if (strcmp(e->d_name, "..") == 0) seen |= 2;
        if (strcmp(e->d_name, "a") == 0 && e->d_type == DT_REG) seen |= 4;
        if (strcmp(e->d_name, "b") == 0 && e->d_type == DT_REG) seen |= 8;
        if (strcmp(e->d_name, "sub") == 0 && e->d_type == DT_DIR) seen |= 16;
        if (strcmp(e->d_name, "up") == 0 && e->d_type == DT_LNK) seen |= 32;
    }
    CHECK_EQ(seen, 63);
    CHECK_EQ(count, 6);
    rewinddir(d);
    CHECK(readdir(d) != NULL);
    CHECK_EQ(closedir(d), 0);
    errno = 0;
    CHECK(opendir("/etc/greeting") == NULL);
    CHECK_EQ(errno, ENOTDIR);
    errno = 0;
    CHECK(opendir("/none") == NULL);
    CHECK_EQ(errno, ENOENT);
}

NABLA_TEST(big_file)
{
    need_root();
    int fd = open("/big", O_RDONLY);
    REQUIRE(fd >= 0);
    static unsigned char buf[1 << 20];
    size_t total = 0;
    int bad = 0;
    /* Odd-sized reads: partial sectors at both ends of most of them. */
    for (;;) {
        ssize_t n = read(fd, buf, 12345);
        REQUIRE(n >= 0);
        if (n == 0)
            break;
        for (ssize_t i = 0; i < n; i++)
            if (buf[i] != (total + (size_t)i) % 251)
                bad++;
        total += (size_t)n;
    }
    CHECK_EQ(total, (size_t)(1 << 20) + 100);
    CHECK_EQ(bad, 0);
    CHECK_EQ(pread(fd, buf, sizeof buf, 512), (ssize_t)sizeof buf - 412);
    CHECK_EQ(buf[0], 512 % 251);
    CHECK_EQ(pread(fd, buf, 10, 1 << 21), 0);
    close(fd);
}

NABLA_TEST(tmp_files)
{
    int fd = open("/tmp/f", O_RDWR | O_CREAT | O_EXCL, 0600);
    REQUIRE(fd >= 3);
    CHECK_ERRNO(open("/tmp/f", O_RDWR | O_CREAT | O_EXCL, 0600), EEXIST);
    CHECK_EQ(write(fd, "hello, tmp", 10), 10);
    CHECK_EQ(pwrite(fd, "T", 1, 7), 1);
    char buf[32] = {0};
    CHECK_EQ(pread(fd, buf, sizeof buf, 0), 10);
    CHECK_STREQ(buf, "hello, Tmp");
    CHECK_EQ(lseek(fd, 100, SEEK_SET), 100);
    CHECK_EQ(write(fd, "!", 1), 1);
    struct stat st;
    CHECK_EQ(fstat(fd, &st), 0);
    CHECK_EQ(st.st_size, 101);
    memset(buf, 1, sizeof buf);
    CHECK_EQ(pread(fd, buf, 5, 50), 5);
    CHECK_EQ(buf[0] | buf[4], 0);           /* the gap reads as zeros */
    CHECK_EQ(ftruncate(fd, 3), 0);
    CHECK_EQ(fstat(fd, &st), 0);
    CHECK_EQ(st.st_size, 3);
    CHECK_EQ(ftruncate(fd, 8), 0);
    memset(buf, 1, sizeof buf);
    CHECK_EQ(pread(fd, buf, sizeof buf, 0), 8);
    CHECK(memcmp(buf, "hel\0\0\0\0\0", 8) == 0);
    CHECK_ERRNO(ftruncate(fd, -1), EINVAL);
    CHECK_EQ(fsync(fd), 0);
    CHECK_EQ(close(fd), 0);

    fd = open("/tmp/f", O_WRONLY | O_APPEND);
    REQUIRE(fd >= 0);
    CHECK_EQ(write(fd, "+", 1), 1);
    CHECK_ERRNO(read(fd, buf, 1), EBADF);
    CHECK_EQ(fcntl(fd, F_GETFL) & (O_ACCMODE | O_APPEND), O_WRONLY | O_APPEND);
    close(fd);
    CHECK_EQ(stat("/tmp/f", &st), 0);
    CHECK_EQ(st.st_size, 9);
    fd = open("/tmp/f", O_RDONLY);
    CHECK_ERRNO(ftruncate(fd, 0), EINVAL);
    CHECK_ERRNO(write(fd, "x", 1), EBADF);
    close(fd);
    fd = open("/tmp/f", O_WRONLY | O_TRUNC);
    CHECK_EQ(fstat(fd, &st), 0);
    CHECK_EQ(st.st_size, 0);
    close(fd);
    CHECK_EQ(unlink("/tmp/f"), 0);
    CHECK_ERRNO(unlink("/tmp/f"), ENOENT);
    CHECK_ERRNO(open("/tmp/f/", O_RDWR | O_CREAT, 0600), EISDIR);
}

NABLA_TEST(tmp_directories)
{
    CHECK_EQ(mkdir("/tmp/d", 0755), 0);
    CHECK_ERRNO(mkdir("/tmp/d", 0755), EEXIST);
    CHECK_ERRNO(mkdir("/tmp/none/d", 0755), ENOENT);
    int fd = open("/tmp/d/x", O_WRONLY | O_CREAT, 0644);
    REQUIRE(fd >= 0);
    CHECK_EQ(write(fd, "x", 1), 1);
    close(fd);
    CHECK_ERRNO(rmdir("/tmp/d"), ENOTEMPTY);
    CHECK_ERRNO(rmdir("/tmp/d/x"), ENOTDIR);
    CHECK_ERRNO(rmdir("/tmp"), EBUSY);
    CHECK_ERRNO(rmdir("/tmp/d/."), EINVAL);
    CHECK_EQ(mkdir("/tmp/e", 0755), 0);
    CHECK_ERRNO(rename("/tmp/d", "/tmp/d/x/y"), ENOTDIR);
    CHECK_ERRNO(rename("/tmp/d", "/tmp/d/inner"), EINVAL);
    CHECK_ERRNO(rename("/tmp/e", "/tmp/d"), ENOTEMPTY);
    CHECK_ERRNO(rename("/tmp/d/x", "/tmp/e"), EISDIR);
    CHECK_EQ(rename("/tmp/d/x", "/tmp/e/y"), 0);
    CHECK_ERRNO(stat("/tmp/d/x", &(struct stat){0}), ENOENT);
    CHECK_EQ(rename("/tmp/e", "/tmp/d"), 0);    /* over an empty directory */
    CHECK_STREQ(slurp("/tmp/d/y"), "x");
    CHECK_ERRNO(rename("/tmp/d/y", "/etc-copy"), EXDEV);
    CHECK_EQ(unlink("/tmp/d/y"), 0);
    CHECK_EQ(rmdir("/tmp/d"), 0);
    CHECK_EQ(symlink("/tmp/target", "/tmp/l"), 0);
    CHECK_ERRNO(stat("/tmp/l", &(struct stat){0}), ENOENT);
    CHECK_EQ(mkdir("/tmp/target", 0755), 0);
    struct stat st;
    CHECK_EQ(stat("/tmp/l", &st), 0);
    CHECK(S_ISDIR(st.st_mode));
    CHECK_EQ(unlink("/tmp/l"), 0);
    CHECK_EQ(rmdir("/tmp/target"), 0);
}

NABLA_TEST(open_after_unlink)
{
    int fd = open("/tmp/gone", O_RDWR | O_CREAT | O_TRUNC, 0600);
    REQUIRE(fd >= 0);
    CHECK_EQ(write(fd, "still here", 10), 10);
    CHECK_EQ(unlink("/tmp/gone"), 0);
    char buf[16] = {0};
    CHECK_EQ(pread(fd, buf, sizeof buf, 0), 10);
    CHECK_STREQ(buf, "still here");
    CHECK_EQ(close(fd), 0);
}

NABLA_TEST(descriptors)
{
    int fd = open("/tmp/dup", O_RDWR | O_CREAT | O_TRUNC, 0600);
    REQUIRE(fd >= 0);
    int copy = dup(fd);
    CHECK(copy > fd);
    CHECK_EQ(write(fd, "abc", 3), 3);
    CHECK_EQ(lseek(copy, 0, SEEK_CUR), 3);       /* one offset, shared */
    CHECK_EQ(dup2(fd, 100), 100);
    CHECK_EQ(close(fd), 0);
    CHECK_EQ(write(100, "d", 1), 1);             /* the file lives on */
    CHECK_EQ(lseek(copy, 0, SEEK_CUR), 4);
    CHECK_EQ(fcntl(copy, F_DUPFD, 200), 200);
    CHECK_ERRNO(dup2(copy, -1), EBADF);
    CHECK_ERRNO(dup(999), EBADF);
    CHECK_ERRNO(read(999, NULL, 0), EBADF);
    CHECK_ERRNO(write(-1, "", 0), EBADF);
    CHECK_ERRNO(fstat(55, &(struct stat){0}), EBADF);
    CHECK_ERRNO(lseek(1, 0, SEEK_SET), ESPIPE);
    CHECK_ERRNO(pread(1, NULL, 0, 0), ESPIPE);
    CHECK_EQ(isatty(100), 0);
    struct pollfd p[3] = {{.fd = 100, .events = POLLIN | POLLOUT}, {.fd = 77, .events = POLLIN}, {.fd = -1}};
    CHECK_EQ(poll(p, 3, 0), 2);
    CHECK_EQ(p[0].revents, POLLIN | POLLOUT);
    CHECK_EQ(p[1].revents, POLLNVAL);
    CHECK_EQ(p[2].revents, 0);
    close(100);
    close(200);
    close(copy);
    CHECK_EQ(unlink("/tmp/dup"), 0);
    /* The lowest free descriptor comes first. */
    int a = open("/tmp", O_RDONLY);
    CHECK_EQ(a, 3);
    close(a);
}

NABLA_TEST(working_directory)
{
    char buf[PATH_MAX];
    CHECK_STREQ(getcwd(buf, sizeof buf), "/");
    CHECK_EQ(chdir("/tmp"), 0);
    CHECK_STREQ(getcwd(buf, sizeof buf), "/tmp");
    CHECK_EQ(mkdir("w", 0755), 0);
    CHECK_EQ(chdir("w"), 0);
    CHECK_STREQ(getcwd(buf, sizeof buf), "/tmp/w");
    CHECK_ERRNO(getcwd(buf, 4), ERANGE);
    int fd = open("file", O_WRONLY | O_CREAT, 0644);
    CHECK(fd >= 0);
    close(fd);
    CHECK_EQ(access("/tmp/w/file", F_OK), 0);
    CHECK_STREQ(realpath("../w/./file", buf), "/tmp/w/file");
    CHECK_STREQ(realpath("..", buf), "/tmp");
    CHECK_STREQ(realpath("../..", buf), "/");
    CHECK_STREQ(realpath("../../..", buf), "/");
    CHECK_ERRNO(chdir("file"), ENOTDIR);
    CHECK_ERRNO(chdir("/none"), ENOENT);
    int dir = open("/tmp", O_RDONLY | O_DIRECTORY);
    CHECK(dir >= 0);
    fd = openat(dir, "w/file", O_RDONLY);
    CHECK(fd >= 0);
    close(fd);
    CHECK_ERRNO(openat(fd, "w/file", O_RDONLY), EBADF);
    close(dir);
    CHECK_EQ(unlink("file"), 0);
    CHECK_EQ(chdir("/"), 0);
    CHECK_EQ(rmdir("/tmp/w"), 0);
}

NABLA_TEST(stdio_on_files)
{
    FILE *f = fopen("/tmp/stdio.txt", "w");
    REQUIRE(f != NULL);
    for (int i = 0; i < 1000; i++)
        fprintf(f, "line %d\n", i);
    CHECK_EQ(fclose(f), 0);
    f = fopen("/tmp/stdio.txt", "r");
    REQUIRE(f != NULL);
    char line[32];
    int n = 0, bad = 0;
    while (fgets(line, sizeof line, f)) {
        char want[32];
        snprintf(want, sizeof want, "line %d\n", n++);
        bad += strcmp(line, want) != 0;
    }
    CHECK_EQ(n, 1000);
    CHECK_EQ(bad, 0);
    CHECK_EQ(fseek(f, 5, SEEK_SET), 0);
    CHECK_EQ(fgetc(f), '0');
    fclose(f);
    CHECK_EQ(remove("/tmp/stdio.txt"), 0);
    errno = 0;
    CHECK(fopen("/tmp/none/x", "r") == NULL);
    CHECK_EQ(errno, ENOENT);
}

NABLA_TEST(tmp_is_bounded_by_memory)
{
    int fd = open("/tmp/huge", O_WRONLY | O_CREAT | O_TRUNC, 0600);
    REQUIRE(fd >= 0);
    static char chunk[1 << 20];
    memset(chunk, 'x', sizeof chunk);
    ssize_t n;
    size_t total = 0;
    while ((n = write(fd, chunk, sizeof chunk)) > 0)
        total += (size_t)n;
    CHECK_EQ(n, -1);
    CHECK_EQ(errno, ENOSPC);
    CHECK(total > 0);
    close(fd);
    CHECK_EQ(unlink("/tmp/huge"), 0);
    /* The memory is back: a smaller file fits again. */
    fd = open("/tmp/small", O_WRONLY | O_CREAT, 0600);
    CHECK_EQ(write(fd, chunk, 4096), 4096);
    close(fd);
    unlink("/tmp/small");
}
