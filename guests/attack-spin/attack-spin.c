/*
 * attack-spin: loops forever without a hypercall. Only --timeout (SIGALRM,
 * delivered by the kernel) or a signal from outside stops it.
 */
#include <nabla.h>

int main(void)
{
    printf("spinning\n");
    for (;;)
        __asm__ volatile("" ::: "memory");
}
