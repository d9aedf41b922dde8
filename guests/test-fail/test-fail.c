/*
 * test-fail: one test passes, one fails a CHECK_EQ and goes on, one fails
 * a REQUIRE and stops there (for nabla-test's and the C test API's tests).
 */
#include <nabla_test.h>

NABLA_TEST(passes)
{
    CHECK_EQ(2 + 2, 4);
}

NABLA_TEST(check_goes_on)
{
    CHECK_EQ(2 + 2, 5);
    printf("# after the failed CHECK_EQ\n");
}

NABLA_TEST(require_stops)
{
    REQUIRE(nabla_clock_monotonic() == 0);
    printf("# after the failed REQUIRE\n");
}
