/*
 * test_main.c: the main() of a guest made only of NABLA_TESTs. It is its
 * own archive member, so the linker takes it only when the guest has no
 * main() of its own.
 */
#include "libos.h"
#include "nabla_test.h"

int main(int argc, char **argv)
{
    return nabla_test_main(argc, argv);
}
