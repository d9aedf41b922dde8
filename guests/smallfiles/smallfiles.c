/*
 * smallfiles DIR N: creates, writes (100 bytes), fsyncs and closes N files
 * in DIR, then deletes them, and prints "smallfiles: N files in T ns".
 * The same source builds natively (bench/files.sh compiles it with gcc)
 * and as a guest, so the two run the same calls. Exits 1 naming the call
 * that failed.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static long long now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)t.tv_sec * 1000000000 + t.tv_nsec;
}

static int failed(const char *call, const char *path)
{
    fprintf(stderr, "smallfiles: %s %s: %s\n", call, path, strerror(errno));
    return 1;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: smallfiles DIR N\n");
        return 2;
    }
    const char *dir = argv[1];
    long n = strtol(argv[2], NULL, 10);
    char data[100], path[4096];
    memset(data, 'x', sizeof data);
    long long start = now_ns();
    for (long i = 0; i < n; i++) {
        snprintf(path, sizeof path, "%s/f%ld", dir, i);
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd < 0)
            return failed("open", path);
        if (write(fd, data, sizeof data) != (ssize_t)sizeof data)
            return failed("write", path);
        if (fsync(fd) != 0)
            return failed("fsync", path);
        if (close(fd) != 0)
            return failed("close", path);
    }
    for (long i = 0; i < n; i++) {
        snprintf(path, sizeof path, "%s/f%ld", dir, i);
        if (unlink(path) != 0)
            return failed("unlink", path);
    }
    printf("smallfiles: %ld files in %lld ns\n", n, now_ns() - start);
    return 0;
}
