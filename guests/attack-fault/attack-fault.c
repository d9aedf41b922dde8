/*
 * attack-fault: `attack-fault MODE` faults on purpose; the tender must name
 * the fault in one line and exit with 128 + the signal:
 *
 *   null      reads address 0                         SIGSEGV
 *   overflow  recurses with 4 KiB frames until it     SIGSEGV in the guard page
 *             runs off the stack
 *   ud2       an undefined instruction                SIGILL
 *   div0      integer division by zero                SIGFPE
 *   int3      a breakpoint                            SIGTRAP
 *   bus       a misaligned read with the alignment    SIGBUS
 *             check flag (AC) set
 *
 * Reaching the line after the fault means it was not caught: the guest says
 * so and returns 0.
 */
#include <nabla.h>

/* Hides a value from the compiler. */
static uintptr_t launder(uintptr_t v)
{
    __asm__ volatile("" : "+r"(v));
    return v;
}

/* A recursion bound the compiler cannot see through, so that it neither
 * warns about infinite recursion nor turns the recursion into a loop. */
static volatile unsigned long depth_limit = ~0ul;

__attribute__((noinline)) static int recurse(unsigned long depth)
{
    volatile char frame[4096];
    /* Touch the frame from its top down, as a stack probe would, so the
     * first access below the stack lands in the guard page rather than
     * skipping over it into the heap. */
    for (int i = (int)sizeof frame - 1; i >= 0; i -= 64)
        frame[i] = (char)depth;
    frame[0] = (char)depth;
    if (depth >= depth_limit)
        return frame[0];
    return recurse(depth + 1) + frame[0] + frame[sizeof frame - 1];
}

int main(int argc, char **argv)
{
    const char *mode = argc >= 2 ? argv[1] : "";
    printf("fault %s\n", mode);
    if (strcmp(mode, "null") == 0) {
        volatile int *p = (volatile int *)launder(0);
        printf("read %d\n", *p);
    } else if (strcmp(mode, "overflow") == 0) {
        printf("recursion returned %d\n", recurse(0));
    } else if (strcmp(mode, "ud2") == 0) {
        __asm__ volatile("ud2");
        printf("ud2 returned\n");
    } else if (strcmp(mode, "div0") == 0) {
        int quotient;
        int divisor = (int)launder(0);
        __asm__ volatile("cltd\n\tidivl %2" : "=a"(quotient) : "a"(1), "r"(divisor) : "rdx");
        printf("1 / 0 = %d\n", quotient);
    } else if (strcmp(mode, "int3") == 0) {
        __asm__ volatile("int3");
        printf("int3 returned\n");
    } else if (strcmp(mode, "bus") == 0) {
        static char bytes[8] __attribute__((aligned(8)));
        int value;
        __asm__ volatile("pushfq\n\torl $0x40000, (%%rsp)\n\tpopfq\n\tmovl (%1), %0"
                         : "=r"(value) : "r"(launder((uintptr_t)bytes + 1)) : "memory", "cc");
        printf("misaligned read returned %d\n", value);
    } else {
        printf("usage: attack-fault null|overflow|ud2|div0|int3|bus\n");
        return 2;
    }
    return 0;
}
