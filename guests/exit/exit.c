/*
 * exit: `exit N` ends the guest with status N through exit(), called a few
 * frames below main, to exercise the exit context (libos/exit.S). With no
 * argument it returns 0 from main.
 */
#include <nabla.h>

/* noinline keeps the frames real, so exit has something to unwind. */
__attribute__((noinline)) static void leave(int status, int depth)
{
    if (depth > 0) {
        leave(status, depth - 1);
        /* Never reached: exit does not return. */
        printf("exit returned at depth %d\n", depth);
        abort();
    }
    exit(status);
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return 0;
    char *end;
    long status = strtol(argv[1], &end, 10);
    if (end == argv[1] || *end != 0) {
        printf("exit: '%s' is not a decimal number\n", argv[1]);
        return 2;
    }
    leave((int)status, 3);
    printf("leave returned\n");
    return 1;
}
