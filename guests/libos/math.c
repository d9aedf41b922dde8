/*
 * math.c: the few floating point functions that compiled code calls.
 *
 * Embedded Swift's hash tables size themselves with ceil(); Swift's
 * rounding methods call floor, ceil, trunc and round. x86_64's baseline
 * instruction set (SSE2) has no rounding instruction, and with
 * -fno-builtin the compiler would turn __builtin_ceil back into a call to
 * ceil, so they are written out here, on top of conversion to a 64-bit
 * integer (exact for every double below 2^52 in magnitude, and every
 * double at or above 2^52 is already an integer).
 */
#include "libos.h"

static uint64_t bits(double x)
{
    uint64_t u;
    memcpy(&u, &x, sizeof u);
    return u;
}

static double from_bits(uint64_t u)
{
    double x;
    memcpy(&x, &u, sizeof x);
    return x;
}

#define SIGN_BIT 0x8000000000000000ull
#define TWO_52   4503599627370496.0

double fabs(double x)
{
    return from_bits(bits(x) & ~SIGN_BIT);
}

double copysign(double x, double y)
{
    return from_bits((bits(x) & ~SIGN_BIT) | (bits(y) & SIGN_BIT));
}

double trunc(double x)
{
    /* Large values, infinities and NaNs are their own truncation; the
     * comparison is false for NaN, so it is written to keep NaN out. */
    if (!(fabs(x) < TWO_52))
        return x;
    /* The integer conversion loses the sign of -0.5 and the like. */
    return copysign((double)(int64_t)x, x);
}

double floor(double x)
{
    double t = trunc(x);
    return t > x ? t - 1.0 : t;         /* only for negative non-integers */
}

double ceil(double x)
{
    double t = trunc(x);
    /* -0.5 truncates to -0.0, which is already right for ceil. */
    return t < x ? t + 1.0 : t;
}

double round(double x)
{
    /* Halfway cases away from zero. Adding 0.5 first would be wrong for
     * 0.49999999999999994 (it rounds up to 1.0 in the addition). */
    double t = trunc(x);
    if (fabs(x - t) >= 0.5)
        t += copysign(1.0, x);
    return t;
}

double sqrt(double x)
{
    __asm__("sqrtsd %1, %0" : "=x"(x) : "x"(x));
    return x;
}

float sqrtf(float x)
{
    __asm__("sqrtss %1, %0" : "=x"(x) : "x"(x));
    return x;
}

float ceilf(float x)  { return (float)ceil(x); }
float floorf(float x) { return (float)floor(x); }
float truncf(float x) { return (float)trunc(x); }
float roundf(float x) { return (float)round(x); }
float fabsf(float x)  { return (float)fabs(x); }
