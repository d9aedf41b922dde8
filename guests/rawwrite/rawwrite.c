/*
 * rawwrite: `rawwrite FD` makes a raw write(FD, "rawwrite\n", 9) system
 * call, bypassing the puts hypercall. The tender's filter allows write
 * only on the console and only from its own code, so this must be stopped.
 */
#include <nabla.h>

static const char message[] = "rawwrite\n";

int main(int argc, char **argv)
{
    long fd = 1;
    if (argc >= 2) {
        char *end;
        fd = strtol(argv[1], &end, 0);
        if (end == argv[1] || *end != 0) {
            printf("rawwrite: '%s' is not a number\n", argv[1]);
            return 2;
        }
    }
    long ret;
    __asm__ volatile("syscall"
                     : "=a"(ret)
                     : "a"(1L /* SYS_write */), "D"(fd), "S"(message), "d"(sizeof message - 1)
                     : "rcx", "r11", "memory");
    char line[64];
    snprintf(line, sizeof line, "write(%ld) returned %ld", fd, ret);
    puts(line);
    return 0;
}
