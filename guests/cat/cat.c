/*
 * cat: copies standard input to standard output, byte for byte, until end
 * of file, with read(0) and write(1) (the stdinread and puts hypercalls).
 * `cat stdio` does the same through stdio (fread, fwrite); `cat stderr`
 * copies to standard error (the stderrwrite hypercall) with write(2).
 * `cat /PATH...` copies files instead (docs/files.md): each path must
 * begin with "/" (bench/files.sh reads the root file system with it).
 * Exits 1 if a read or write fails, naming it on stderr.
 */
#include <nabla.h>
#include <fcntl.h>
#include <unistd.h>

static char buffer[NABLA_STDIN_CHUNK];

static int raw_copy(int in, int out)
{
    for (;;) {
        int n = read(in, buffer, sizeof buffer);
        if (n == 0)
            return 0;
        if (n < 0) {
            fprintf(stderr, "cat: read: %s\n", strerror(errno));
            return 1;
        }
        for (int done = 0; done < n;) {
            int w = write(out, buffer + done, (size_t)(n - done));
            if (w <= 0) {
                fprintf(stderr, "cat: write: %s\n", strerror(errno));
                return 1;
            }
            done += w;
        }
    }
}

static int stdio_copy(void)
{
    size_t n;
    while ((n = fread(buffer, 1, sizeof buffer, stdin)) > 0) {
        if (fwrite(buffer, 1, n, stdout) != n) {
            fprintf(stderr, "cat: fwrite: %s\n", strerror(errno));
            return 1;
        }
    }
    if (ferror(stdin)) {
        fprintf(stderr, "cat: fread: %s\n", strerror(errno));
        return 1;
    }
    return fflush(stdout) == 0 ? 0 : 1;
}

static int file_copy(const char *path)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0) {
        fprintf(stderr, "cat: %s: %s\n", path, strerror(errno));
        return 1;
    }
    int status = raw_copy(fd, 1);
    close(fd);
    return status;
}

int main(int argc, char **argv)
{
    if (argc == 1)
        return raw_copy(0, 1);
    if (argv[1][0] == '/') {
        int status = 0;
        for (int i = 1; i < argc; i++)
            status |= file_copy(argv[i]);
        return status;
    }
    if (argc == 2 && strcmp(argv[1], "stdio") == 0)
        return stdio_copy();
    if (argc == 2 && strcmp(argv[1], "stderr") == 0)
        return raw_copy(0, 2);
    fprintf(stderr, "usage: cat [stdio|stderr|/PATH...]\n");
    return 2;
}
