/*
 * attack-int80: `attack-int80 NR` enters the kernel through the i386 entry
 * point, `int $0x80`, with eax = NR (and zero arguments). A 64-bit process
 * can do this; the call then has the i386 audit architecture, which the
 * tender's filter traps like any other call.
 */
#include <nabla.h>

int main(int argc, char **argv)
{
    uint64_t nr = 20;                   /* getpid on i386 */
    if (argc >= 2 && nabla_parse_u64(argv[1], &nr) != 0) {
        printf("attack-int80: '%s' is not a number\n", argv[1]);
        return 2;
    }
    printf("calling int 0x80 with eax=%llu\n", (unsigned long long)nr);
    long ret;
    __asm__ volatile("int $0x80"
                     : "=a"(ret)
                     : "a"(nr), "b"(0L), "c"(0L), "d"(0L), "S"(0L), "D"(0L)
                     : "memory");
    printf("returned %ld\n", ret);
    return 0;
}
