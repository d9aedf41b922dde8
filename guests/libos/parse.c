/*
 * parse.c: turning text into numbers.
 */
#include "libos.h"

/* The value of an ASCII digit or letter as a digit, or 99. */
static unsigned digit_value(char c)
{
    if (c >= '0' && c <= '9')
        return (unsigned)(c - '0');
    if (c >= 'a' && c <= 'z')
        return (unsigned)(c - 'a' + 10);
    if (c >= 'A' && c <= 'Z')
        return (unsigned)(c - 'A' + 10);
    return 99;
}

static int is_space(char c)
{
    return c == ' ' || (c >= '\t' && c <= '\r');
}

/*
 * The common part of the strto* family: white space, sign, base prefix and
 * digits. Returns the magnitude, saturated at UINT64_MAX with *overflow
 * set, and *negative for a leading '-'.
 */
static uint64_t parse_magnitude(const char *s, char **end, int base,
                                int *negative, int *overflow)
{
    const char *p = s;
    uint64_t value = 0;
    int any = 0;

    *negative = 0;
    *overflow = 0;
    if (base < 0 || base == 1 || base > 36) {
        if (end)
            *end = (char *)s;
        return 0;
    }

    while (is_space(*p))
        p++;
    if (*p == '+' || *p == '-') {
        *negative = *p == '-';
        p++;
    }
    /* A 0x prefix counts only if a hexadecimal digit follows it; "0xz"
     * is the number 0 followed by "xz". */
    if ((base == 0 || base == 16) && p[0] == '0' && (p[1] == 'x' || p[1] == 'X') &&
        digit_value(p[2]) < 16) {
        p += 2;
        base = 16;
    } else if (base == 0) {
        base = p[0] == '0' ? 8 : 10;
    }

    for (;; p++) {
        unsigned d = digit_value(*p);
        if (d >= (unsigned)base)
            break;
        any = 1;
        if (value > (UINT64_MAX - d) / (unsigned)base) {
            *overflow = 1;
            value = UINT64_MAX;
        } else if (!*overflow) {
            value = value * (unsigned)base + d;
        }
    }

    if (end)
        *end = (char *)(any ? p : s);
    if (!any)
        *negative = 0;
    return value;
}

unsigned long long strtoull(const char *s, char **end, int base)
{
    int negative, overflow;
    uint64_t v = parse_magnitude(s, end, base, &negative, &overflow);
    if (overflow)
        return UINT64_MAX;
    /* As in C: "-1" is the negation of 1 in the unsigned type. */
    return negative ? -v : v;
}

long long strtoll(const char *s, char **end, int base)
{
    int negative, overflow;
    uint64_t v = parse_magnitude(s, end, base, &negative, &overflow);
    if (negative) {
        if (overflow || v > (uint64_t)INT64_MAX + 1)
            return INT64_MIN;
        return (long long)(0 - v);
    }
    if (overflow || v > (uint64_t)INT64_MAX)
        return INT64_MAX;
    return (long long)v;
}

/* long is 64 bits on x86_64: the long variants are the long long ones. */
unsigned long strtoul(const char *s, char **end, int base)
{
    return strtoull(s, end, base);
}

long strtol(const char *s, char **end, int base)
{
    return strtoll(s, end, base);
}

long atol(const char *s)
{
    return strtol(s, NULL, 10);
}

int atoi(const char *s)
{
    return (int)strtol(s, NULL, 10);
}

int nabla_parse_u64(const char *s, uint64_t *value)
{
    unsigned base = 10;
    uint64_t v = 0;

    if (s == NULL || value == NULL)
        return NABLA_EINVAL;
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        base = 16;
        s += 2;
    }
    if (*s == 0)
        return NABLA_EINVAL;
    for (; *s; s++) {
        unsigned d = digit_value(*s);
        if (d >= base)
            return NABLA_EINVAL;
        if (v > (UINT64_MAX - d) / base)
            return NABLA_ERANGE;
        v = v * base + d;
    }
    *value = v;
    return 0;
}
