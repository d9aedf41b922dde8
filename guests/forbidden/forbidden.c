/*
 * forbidden: `forbidden N` makes raw system call N, which the tender's
 * seccomp filter must stop. Reaching the line after the call means it did
 * not: the guest then says so and returns 0.
 */
#include <nabla.h>

static long raw_syscall(long nr)
{
    long ret;
    register long r10 __asm__("r10") = 0;
    register long r8 __asm__("r8") = 0;
    register long r9 __asm__("r9") = 0;
    __asm__ volatile("syscall"
                     : "=a"(ret)
                     : "a"(nr), "D"(0L), "S"(0L), "d"(0L), "r"(r10), "r"(r8), "r"(r9)
                     : "rcx", "r11", "memory");
    return ret;
}

int main(int argc, char **argv)
{
    long nr = 39;                       /* getpid, if no number is given */
    if (argc >= 2) {
        char *end;
        nr = strtol(argv[1], &end, 0);
        if (end == argv[1] || *end != 0) {
            printf("forbidden: '%s' is not a number\n", argv[1]);
            return 2;
        }
    }
    printf("making system call %ld\n", nr);
    long r = raw_syscall(nr);
    printf("system call %ld returned %ld\n", nr, r);
    return 0;
}
