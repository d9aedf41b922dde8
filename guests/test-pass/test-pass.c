/*
 * test-pass: NABLA_TESTs that all pass (for nabla-test and the C test API's
 * own tests). With no main(), the library's test main runs them.
 */
#include <nabla_test.h>

static int square(int x) { return x * x; }

NABLA_TEST(arithmetic)
{
    CHECK(1 + 1 == 2);
    CHECK_EQ(square(7), 49);
    CHECK_EQ(sizeof(uint64_t), 8u);
}

NABLA_TEST(strings)
{
    char buffer[32];
    snprintf(buffer, sizeof buffer, "%s-%d", "nabla", 12);
    CHECK_STREQ(buffer, "nabla-12");
    CHECK_EQ(strlen(buffer), 8u);
}

NABLA_TEST(heap)
{
    char *p = malloc(100);
    REQUIRE(p != NULL);
    memset(p, 'x', 100);
    CHECK_EQ(p[99], 'x');
    free(p);
}
