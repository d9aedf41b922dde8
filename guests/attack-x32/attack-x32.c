/*
 * attack-x32: `attack-x32 NR` makes a raw `syscall` with rax = 0x40000000 | NR,
 * the x32 ABI's numbering of the same calls. The filter must trap it even
 * when NR alone would be allowed (write is 1).
 */
#include <nabla.h>

#define X32_SYSCALL_BIT 0x40000000ull

static const char message[] = "x32\n";

int main(int argc, char **argv)
{
    uint64_t nr = 39;                   /* getpid */
    if (argc >= 2 && nabla_parse_u64(argv[1], &nr) != 0) {
        printf("attack-x32: '%s' is not a number\n", argv[1]);
        return 2;
    }
    uint64_t rax = X32_SYSCALL_BIT | nr;
    printf("calling %llu\n", (unsigned long long)rax);
    /* Arguments that would make write(1, ...) valid, should it get through. */
    long ret;
    __asm__ volatile("syscall"
                     : "=a"(ret)
                     : "a"(rax), "D"(1L), "S"(message), "d"(sizeof message - 1)
                     : "rcx", "r11", "memory");
    printf("returned %ld\n", ret);
    return 0;
}
