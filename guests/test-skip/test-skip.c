/*
 * test-skip: its only test skips, so the guest exits with 77, which
 * nabla-test reports as skipped.
 */
#include <nabla_test.h>

NABLA_TEST(needs_a_disk)
{
    if (nabla_device_find("disk", NABLA_DEVICE_BLOCK) < 0)
        NABLA_SKIP("no disk attached");
    CHECK(1);
}
