/* abort: calls abort() a few frames below main (expected status 134). */
#include <nabla.h>

__attribute__((noinline)) static void deeper(int depth)
{
    if (depth > 0) {
        deeper(depth - 1);
        printf("abort returned at depth %d\n", depth);
        return;
    }
    abort();
}

int main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    deeper(3);
    printf("abort returned\n");
    return 1;
}
