/* args: prints argc and every argv entry: the image, then the arguments
 * given after it on the command line. */
#include <nabla.h>

int main(int argc, char **argv)
{
    printf("argc=%d\n", argc);
    for (int i = 0; i < argc; i++)
        printf("argv[%d]=%s\n", i, argv[i]);
    return 0;
}
