/* hello: the smallest guest. */
#include <nabla.h>

int main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    printf("Hello from a nabla guest!\n");
    return 0;
}
