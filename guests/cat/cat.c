/*
 * cat: copies standard input to standard output, byte for byte, until end
 * of file, with read(0) and write(1) (the stdinread and puts hypercalls).
 * `cat stdio` does the same through stdio (fread, fwrite); `cat stderr`
 * copies to standard error (the stderrwrite hypercall) with write(2).
 * Exits 1 if a read or write fails, naming it on stderr.
 */
#include <nabla.h>
#include <unistd.h>

static char buffer[NABLA_STDIN_CHUNK];

static int raw_copy(int out)
{
    for (;;) {
        int n = read(0, buffer, sizeof buffer);
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

int main(int argc, char **argv)
{
    if (argc == 1)
        return raw_copy(1);
    if (argc == 2 && strcmp(argv[1], "stdio") == 0)
        return stdio_copy();
    if (argc == 2 && strcmp(argv[1], "stderr") == 0)
        return raw_copy(2);
    fprintf(stderr, "usage: cat [stdio|stderr]\n");
    return 2;
}
