/* vector.c - the case study's arithmetic with glibc's vector sin and cos: 4, 8 or 16 values at
 * a time instead of one.
 *
 * NumPy computes sin and cos over a whole array with vector instructions; the rungs call glibc's
 * scalar functions, one value at a time. glibc has vector versions too, in libmvec, named by the
 * x86-64 vector function ABI: _ZGVbN4v_sinf takes 4 floats in an SSE register, _ZGVdN8v_sinf 8
 * in an AVX2 register, _ZGVeN16v_sinf 16 in an AVX-512 register. gcc calls them by itself when
 * it vectorizes a loop under -ffast-math, but not the rungs' loop: it first turns sinf(x) *
 * cosf(x) into one sincosf call, and libmvec has no vector sincosf to call. Here they are called
 * by name, so what is measured is the math library, not the compiler's choices. A width runs only
 * on a CPU with its instructions.
 *
 * Only sin and cos change. Each value's term is added to the sum in double, one value at a time
 * and in value order, as the rungs add them; libmvec's sin and cos are within 4 units in the last
 * place (glibc's scalar ones within 1), so the sums agree to about 1e-9, not bit for bit.
 */
#define _GNU_SOURCE
#include <math.h>
#include <string.h>

#include "vector.h"

/* A value's term once its sine and cosine are known: the tutorial's arithmetic. */
static inline float term(float sine_times_cosine, float x)
{
    return sine_times_cosine + sqrtf(fabsf(x));
}

/* The values past the last whole vector, one at a time. */
static double add_tail(double sum, const float *values, size_t from, size_t n)
{
    for (size_t i = from; i < n; i++)
        sum += term(sinf(values[i]) * cosf(values[i]), values[i]);
    return sum;
}

#if defined(__x86_64__)

typedef float floats4 __attribute__((vector_size(16)));
typedef float floats8 __attribute__((vector_size(32)));
typedef float floats16 __attribute__((vector_size(64)));

floats4 _ZGVbN4v_sinf(floats4);
floats4 _ZGVbN4v_cosf(floats4);
__attribute__((target("avx2"))) floats8 _ZGVdN8v_sinf(floats8);
__attribute__((target("avx2"))) floats8 _ZGVdN8v_cosf(floats8);
__attribute__((target("avx512f"))) floats16 _ZGVeN16v_sinf(floats16);
__attribute__((target("avx512f"))) floats16 _ZGVeN16v_cosf(floats16);

/* book:vector-sum */
static double sum_4_at_a_time(const float *values, size_t n)
{
    double sum = 0;
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        floats4 x, product;
        float p[4];
        memcpy(&x, values + i, sizeof x);
        product = _ZGVbN4v_sinf(x) * _ZGVbN4v_cosf(x);
        memcpy(p, &product, sizeof p);
        for (int lane = 0; lane < 4; lane++)
            sum += term(p[lane], values[i + lane]);
    }
    return add_tail(sum, values, i, n);
}
/* end:vector-sum */

__attribute__((target("avx2"))) static double sum_8_at_a_time(const float *values, size_t n)
{
    double sum = 0;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        floats8 x, product;
        float p[8];
        memcpy(&x, values + i, sizeof x);
        product = _ZGVdN8v_sinf(x) * _ZGVdN8v_cosf(x);
        memcpy(p, &product, sizeof p);
        for (int lane = 0; lane < 8; lane++)
            sum += term(p[lane], values[i + lane]);
    }
    return add_tail(sum, values, i, n);
}

__attribute__((target("avx512f"))) static double sum_16_at_a_time(const float *values, size_t n)
{
    double sum = 0;
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        floats16 x, product;
        float p[16];
        memcpy(&x, values + i, sizeof x);
        product = _ZGVeN16v_sinf(x) * _ZGVeN16v_cosf(x);
        memcpy(p, &product, sizeof p);
        for (int lane = 0; lane < 16; lane++)
            sum += term(p[lane], values[i + lane]);
    }
    return add_tail(sum, values, i, n);
}

bool vector_width_runs(int lanes)
{
    __builtin_cpu_init();
    switch (lanes) {
    case 1:
    case 4:  return true;      /* SSE2 is part of x86-64 */
    case 8:  return __builtin_cpu_supports("avx2");
    case 16: return __builtin_cpu_supports("avx512f");
    default: return false;
    }
}

double vector_sum(const float *values, size_t n, int lanes)
{
    switch (lanes) {
    case 4:  return sum_4_at_a_time(values, n);
    case 8:  return sum_8_at_a_time(values, n);
    case 16: return sum_16_at_a_time(values, n);
    default: return add_tail(0, values, 0, n);
    }
}

#else   /* libmvec is called here through the x86-64 vector ABI only */

bool vector_width_runs(int lanes) { return lanes == 1; }

double vector_sum(const float *values, size_t n, int lanes)
{
    (void)lanes;
    return add_tail(0, values, 0, n);
}

#endif
