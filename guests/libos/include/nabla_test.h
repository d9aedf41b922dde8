/*
 * nabla_test.h: a small unit-test API for guests, whose results nabla-test
 * reads (docs/guests.md, "Testing").
 *
 *     #include <nabla_test.h>
 *
 *     NABLA_TEST(addition) {
 *         CHECK(1 + 1 == 2);
 *         CHECK_EQ(2 + 2, 4);
 *     }
 *
 * A guest made of tests needs no main(): the library's test main runs
 * every NABLA_TEST in source order (or, given arguments, only the tests
 * named) and prints TAP version 13:
 *
 *     TAP version 13
 *     1..2
 *     ok 1 - addition
 *     # sum.c:9: CHECK_EQ(f(2), 5) failed: 4 != 5
 *     not ok 2 - f
 *
 * Its exit status is 0 when every test passed, 1 when one failed, and
 * NABLA_TEST_SKIP_STATUS (77) when every test was skipped. A guest with its
 * own main() calls nabla_test_main(argc, argv) from it.
 *
 * CHECK and CHECK_* note a failure and go on; REQUIRE ends the test at
 * the first failure; NABLA_SKIP(reason) ends it as skipped.
 */
#ifndef NABLA_TEST_H
#define NABLA_TEST_H

#include <nabla.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The exit status that tells nabla-test "skipped" (automake's). */
#define NABLA_TEST_SKIP_STATUS 77

/* A registered test; NABLA_TEST defines one per test. */
struct nabla_test {
    const char *name;
    void (*run)(void);
    struct nabla_test *next;
};

/* Adds a test to the list nabla_test_main runs (in registration order). */
void nabla_test_register(struct nabla_test *test);

/* Runs the registered tests named in argv[1..] (all of them if there are none),
 * printing TAP; returns 0, 1 or NABLA_TEST_SKIP_STATUS as described above,
 * or 64 if an argument names no test. */
int nabla_test_main(int argc, char **argv);

/* Marks the running test failed and prints "# FILE:LINE: message". */
void nabla_test_fail(const char *file, int line, const char *fmt, ...) NABLA_PRINTF(3, 4);
/* Ends the running test now (after a failure was noted, or to skip it). */
NABLA_NORETURN void nabla_test_end(void);
/* Ends the running test as skipped. */
NABLA_NORETURN void nabla_test_skip(const char *reason);

void nabla_test__check_eq(const char *file, int line, const char *a, const char *b,
                          long long va, long long vb, int is_unsigned);
void nabla_test__check_str(const char *file, int line, const char *a, const char *b,
                           const char *va, const char *vb);

#define NABLA_TEST(name)                                                     \
    static void nabla_test_run_##name(void);                                 \
    static struct nabla_test nabla_test_##name = {#name, nabla_test_run_##name, 0}; \
    __attribute__((constructor)) static void nabla_test_add_##name(void)     \
    {                                                                        \
        nabla_test_register(&nabla_test_##name);                             \
    }                                                                        \
    static void nabla_test_run_##name(void)

/* Notes a failure if `cond` is false; the test goes on. */
#define CHECK(cond)                                                          \
    ((cond) ? (void)0 : nabla_test_fail(__FILE__, __LINE__, "CHECK(%s) failed", #cond))

/* Ends the test at once if `cond` is false. */
#define REQUIRE(cond)                                                        \
    ((cond) ? (void)0                                                        \
            : (nabla_test_fail(__FILE__, __LINE__, "REQUIRE(%s) failed", #cond), \
               nabla_test_end()))

/* 1 for the unsigned integer types (printed with %llu), else 0. */
#define NABLA_TEST__UNSIGNED(x)                                              \
    _Generic((x), unsigned char: 1, unsigned short: 1, unsigned int: 1,      \
             unsigned long: 1, unsigned long long: 1, default: 0)

/* Integers, characters and pointers: compares with ==, prints both values. */
#define CHECK_EQ(a, b)                                                       \
    do {                                                                     \
        __auto_type nabla_a_ = (a);                                          \
        __auto_type nabla_b_ = (b);                                          \
        if (!(nabla_a_ == nabla_b_))                                         \
            nabla_test__check_eq(__FILE__, __LINE__, #a, #b,                 \
                                 (long long)nabla_a_, (long long)nabla_b_,   \
                                 NABLA_TEST__UNSIGNED(nabla_a_));           \
    } while (0)

/* Two NUL-terminated strings (either may be NULL): compares with strcmp. */
#define CHECK_STREQ(a, b)                                                    \
    do {                                                                     \
        const char *nabla_a_ = (a), *nabla_b_ = (b);                         \
        if (nabla_a_ != nabla_b_ &&                                          \
            (!nabla_a_ || !nabla_b_ || strcmp(nabla_a_, nabla_b_) != 0))    \
            nabla_test__check_str(__FILE__, __LINE__, #a, #b, nabla_a_, nabla_b_); \
    } while (0)

/* Ends the test as skipped, with a reason. */
#define NABLA_SKIP(reason) nabla_test_skip(reason)

#ifdef __cplusplus
}
#endif

#endif /* NABLA_TEST_H */
