/*
 * parse.c: nabla_parse_u64, the strict number parser the guests' command
 * lines use (newlib's strto* accept white space, signs and trailing text).
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
