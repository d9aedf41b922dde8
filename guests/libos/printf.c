/*
 * printf.c: formatted output, and the console's character buffer.
 *
 * One formatter, `format`, writes into a `struct sink`. A sink is a buffer
 * plus, optionally, a way to empty it: snprintf's sink has none and simply
 * stops storing when full (while still counting, as C requires); printf's
 * sink is a buffer on the stack that is written to the console when full
 * and at the end, so a printf call costs one hypercall unless its output
 * is longer than the buffer.
 */
#include "libos.h"

struct sink {
    char    *buf;
    size_t   cap;       /* bytes buf can hold */
    size_t   len;       /* bytes in buf */
    size_t   total;     /* bytes produced so far, stored or not */
    int      console;   /* empty the buffer to the console when full */
    int64_t  error;     /* first console error, or 0 */
};

static void sink_flush(struct sink *s)
{
    if (s->len > 0) {
        int64_t r = nabla_console_write(s->buf, s->len);
        if (r < 0 && s->error == 0)
            s->error = r;
        s->len = 0;
    }
}

static void sink_put(struct sink *s, char c)
{
    if (s->len == s->cap) {
        if (!s->console) {
            s->total++;
            return;
        }
        sink_flush(s);
    }
    s->buf[s->len++] = c;
    s->total++;
}

static void sink_write(struct sink *s, const char *p, size_t n)
{
    while (n-- > 0)
        sink_put(s, *p++);
}

static void sink_pad(struct sink *s, char c, size_t n)
{
    while (n-- > 0)
        sink_put(s, c);
}

/* What one conversion specification asked for. */
struct spec {
    int    left;        /* '-': pad on the right */
    int    zero;        /* '0': pad numbers with zeros */
    int    plus;        /* '+': sign for non-negative numbers */
    int    space;       /* ' ': space for non-negative numbers */
    int    alt;         /* '#': 0x/0 prefix */
    size_t width;
    int    has_prec;
    size_t prec;
};

/* Writes a field of `n` bytes of body padded to the width. */
static void put_padded(struct sink *s, const struct spec *sp, const char *body, size_t n)
{
    size_t pad = sp->width > n ? sp->width - n : 0;
    if (!sp->left)
        sink_pad(s, ' ', pad);
    sink_write(s, body, n);
    if (sp->left)
        sink_pad(s, ' ', pad);
}

/*
 * Writes an integer: [sign or prefix][zeros][digits], padded to the width.
 * `negative` says the magnitude v belongs to a negative number.
 */
static void put_number(struct sink *s, const struct spec *sp, uint64_t v,
                       int negative, unsigned base, int upper, int is_pointer)
{
    const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    char tmp[24];                       /* 22 octal digits at most */
    size_t nd = 0;
    char prefix[2];
    size_t np = 0;

    /* Precision 0 with the value 0 prints no digits at all (C rule). */
    if (!(sp->has_prec && sp->prec == 0 && v == 0)) {
        do {
            tmp[nd++] = digits[v % base];
            v /= base;
        } while (v != 0);
    }

    if (negative)
        prefix[np++] = '-';
    else if (sp->plus && base == 10 && !is_pointer)
        prefix[np++] = '+';
    else if (sp->space && base == 10 && !is_pointer)
        prefix[np++] = ' ';

    if (base == 16 && (is_pointer || (sp->alt && nd > 0 && !(nd == 1 && tmp[0] == '0')))) {
        prefix[np++] = '0';
        prefix[np++] = upper ? 'X' : 'x';
    }

    /* Zeros the precision asks for; '#' with octal needs one leading 0. */
    size_t zeros = sp->has_prec && sp->prec > nd ? sp->prec - nd : 0;
    if (base == 8 && sp->alt && zeros == 0 && (nd == 0 || tmp[nd - 1] != '0'))
        zeros = 1;

    size_t body = np + zeros + nd;
    size_t pad = sp->width > body ? sp->width - body : 0;

    /* The '0' flag pads with zeros after the sign, unless a precision or
     * '-' was given. */
    if (sp->zero && !sp->left && !sp->has_prec) {
        zeros += pad;
        pad = 0;
    }
    if (!sp->left)
        sink_pad(s, ' ', pad);
    sink_write(s, prefix, np);
    sink_pad(s, '0', zeros);
    while (nd > 0)
        sink_put(s, tmp[--nd]);
    if (sp->left)
        sink_pad(s, ' ', pad);
}

enum length { LEN_INT, LEN_CHAR, LEN_SHORT, LEN_LONG, LEN_LLONG, LEN_SIZE, LEN_MAX, LEN_PTRDIFF };

static size_t parse_decimal(const char **fmt)
{
    size_t n = 0;
    while (**fmt >= '0' && **fmt <= '9') {
        if (n < 100000000)              /* absurd widths saturate */
            n = n * 10 + (size_t)(**fmt - '0');
        (*fmt)++;
    }
    return n;
}

static void format(struct sink *s, const char *fmt, va_list ap)
{
    while (*fmt) {
        if (*fmt != '%') {
            sink_put(s, *fmt++);
            continue;
        }
        const char *start = fmt++;
        struct spec sp = { 0 };

        for (;; fmt++) {
            if (*fmt == '-')      sp.left = 1;
            else if (*fmt == '0') sp.zero = 1;
            else if (*fmt == '+') sp.plus = 1;
            else if (*fmt == ' ') sp.space = 1;
            else if (*fmt == '#') sp.alt = 1;
            else break;
        }

        if (*fmt == '*') {
            int w = va_arg(ap, int);
            fmt++;
            if (w < 0) {                /* a negative width means '-' */
                sp.left = 1;
                w = w == INT32_MIN ? INT32_MAX : -w;
            }
            sp.width = (size_t)w;
        } else {
            sp.width = parse_decimal(&fmt);
        }

        if (*fmt == '.') {
            fmt++;
            sp.has_prec = 1;
            if (*fmt == '*') {
                int p = va_arg(ap, int);
                fmt++;
                if (p < 0)              /* a negative precision is none */
                    sp.has_prec = 0;
                else
                    sp.prec = (size_t)p;
            } else {
                sp.prec = parse_decimal(&fmt);
            }
        }

        enum length len = LEN_INT;
        switch (*fmt) {
        case 'h':
            fmt++;
            len = LEN_SHORT;
            if (*fmt == 'h') { fmt++; len = LEN_CHAR; }
            break;
        case 'l':
            fmt++;
            len = LEN_LONG;
            if (*fmt == 'l') { fmt++; len = LEN_LLONG; }
            break;
        case 'z': fmt++; len = LEN_SIZE; break;
        case 'j': fmt++; len = LEN_MAX; break;
        case 't': fmt++; len = LEN_PTRDIFF; break;
        default: break;
        }

        char conv = *fmt;
        if (conv == 0) {                /* a lone '%' at the end */
            sink_write(s, start, (size_t)(fmt - start));
            break;
        }
        fmt++;

        switch (conv) {
        case 'd':
        case 'i': {
            int64_t v;
            switch (len) {
            case LEN_CHAR:  v = (signed char)va_arg(ap, int); break;
            case LEN_SHORT: v = (short)va_arg(ap, int); break;
            case LEN_INT:   v = va_arg(ap, int); break;
            case LEN_SIZE:
            case LEN_PTRDIFF: v = va_arg(ap, ptrdiff_t); break;
            case LEN_MAX:   v = va_arg(ap, intmax_t); break;
            case LEN_LONG:  v = va_arg(ap, long); break;
            default:        v = va_arg(ap, long long); break;
            }
            uint64_t mag = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
            put_number(s, &sp, mag, v < 0, 10, 0, 0);
            break;
        }
        case 'u':
        case 'x':
        case 'X':
        case 'o': {
            uint64_t v;
            switch (len) {
            case LEN_CHAR:  v = (unsigned char)va_arg(ap, unsigned); break;
            case LEN_SHORT: v = (unsigned short)va_arg(ap, unsigned); break;
            case LEN_INT:   v = va_arg(ap, unsigned); break;
            case LEN_SIZE:  v = va_arg(ap, size_t); break;
            case LEN_PTRDIFF: v = (uint64_t)va_arg(ap, ptrdiff_t); break;
            case LEN_MAX:   v = va_arg(ap, uintmax_t); break;
            case LEN_LONG:  v = va_arg(ap, unsigned long); break;
            default:        v = va_arg(ap, unsigned long long); break;
            }
            unsigned base = conv == 'u' ? 10 : conv == 'o' ? 8 : 16;
            put_number(s, &sp, v, 0, base, conv == 'X', 0);
            break;
        }
        case 'p': {
            uintptr_t v = (uintptr_t)va_arg(ap, void *);
            put_number(s, &sp, v, 0, 16, 0, 1);
            break;
        }
        case 'c': {
            char c = (char)va_arg(ap, int);
            put_padded(s, &sp, &c, 1);
            break;
        }
        case 's': {
            const char *str = va_arg(ap, const char *);
            if (str == NULL)
                str = "(null)";
            size_t n = sp.has_prec ? strnlen(str, sp.prec) : strlen(str);
            put_padded(s, &sp, str, n);
            break;
        }
        case '%':
            sink_put(s, '%');
            break;
        default:
            /* Unknown (including %n, which is deliberately not supported):
             * copy the specification as it was written. */
            sink_write(s, start, (size_t)(fmt - start));
            break;
        }
    }
}

static int clamp_count(size_t n)
{
    return n > INT32_MAX ? INT32_MAX : (int)n;
}

int vsnprintf(char *restrict buf, size_t size, const char *restrict fmt, va_list ap)
{
    struct sink s = { .buf = buf, .cap = size > 0 ? size - 1 : 0 };
    format(&s, fmt, ap);
    if (size > 0)
        buf[s.len] = 0;
    return clamp_count(s.total);
}

int snprintf(char *restrict buf, size_t size, const char *restrict fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return n;
}

/* Large enough for any ordinary line, small enough for a deep stack. */
#define PRINTF_BUFFER 512

int vprintf(const char *fmt, va_list ap)
{
    char buf[PRINTF_BUFFER];
    struct sink s = { .buf = buf, .cap = sizeof buf, .console = 1 };

    nabla_flush();                      /* keep putchar's output in order */
    format(&s, fmt, ap);
    sink_flush(&s);
    return s.error != 0 ? (int)s.error : clamp_count(s.total);
}

int printf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vprintf(fmt, ap);
    va_end(ap);
    return n;
}

int puts(const char *s)
{
    return printf("%s\n", s);
}

int nabla_puts(const char *s)
{
    nabla_flush();
    int64_t r = nabla_console_write(s, strlen(s));
    return r < 0 ? (int)r : clamp_count((size_t)r);
}

/* ---- putchar's line buffer ------------------------------------------------ */

static char line_buf[256];
static size_t line_len;

int nabla_flush(void)
{
    int64_t r = 0;
    if (line_len > 0) {
        r = nabla_console_write(line_buf, line_len);
        line_len = 0;
    }
    return r < 0 ? (int)r : 0;
}

int putchar(int c)
{
    line_buf[line_len++] = (char)c;
    if (c == '\n' || line_len == sizeof line_buf)
        nabla_flush();
    return (unsigned char)c;
}
