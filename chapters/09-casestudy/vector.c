/* vector.c - the case study's arithmetic with glibc's vector sin and cos: 4, 8 or 16 values at
 * a time instead of one.
 *
 * NumPy computes sin and cos over a whole array with vector instructions; the rungs call glibc's
 * scalar functions, one value at a time. glibc has vector versions too, in libmvec, named by the
 * x86-64 vector function ABI: _ZGVbN4v_sinf takes 4 floats in an SSE register, _ZGVdN8v_sinf 8
 * in an AVX2 register, _ZGVeN16v_sinf 16 in an AVX-512 register. gcc calls them by itself when
 * it vectorizes a loop under -ffast-math, but not the rungs' loop: it first merges sinf(x) and
 * cosf(x) into one call that returns both (__builtin_cexpif), which gcc 12 does not vectorize
 * (with -fdisable-tree-sincos it does). Here they are called by name, so what is measured is the
 * math library, not the compiler's choices. A width runs only on a CPU with its instructions.
 *
 * Only sin and cos change. Each value's term is added to the sum in double, one value at a time
 * and in value order, as the rungs add them; libmvec's sin and cos are within 4 units in the last
 * place (glibc's scalar ones within 1), so a block's sum can differ by about 1e-7 at worst, if
 * every error had the same sign: close, not bit for bit.
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

/* x = value + shift and sin(x) * cos(x), one value at a time: for a width with no vector code. */
static void products_one_at_a_time(const float *values, float shift, float *x, float *product,
                                   int lanes)
{
    for (int lane = 0; lane < lanes; lane++) {
        x[lane] = values[lane] + shift;
        product[lane] = sinf(x[lane]) * cosf(x[lane]);
    }
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

/* For one register's worth of values (`lanes`), through the width's own functions: x = value +
 * shift, and sin(x) * cos(x) into product. x is built in a register, not in memory: built a
 * lane at a time in memory and loaded back, it took twice the time per value (--lanes 16),
 * likely because a load that spans several just-stored lanes waits for the stores to retire.
 * Everything else is shared by the widths (sum_at_a_time). */
typedef void products_fn(const float *values, float shift, float *x, float *product);

/* book:vector-sum */
static void products_of_4(const float *values, float shift, float *x, float *product)
{
    floats4 v, p;
    memcpy(&v, values, sizeof v);
    v += shift;
    p = _ZGVbN4v_sinf(v) * _ZGVbN4v_cosf(v);
    memcpy(x, &v, sizeof v);
    memcpy(product, &p, sizeof p);
}

static double sum_at_a_time(const float *values, size_t n, size_t lanes, products_fn *products)
{
    double sum = 0;
    float x[16], product[16];
    size_t i = 0;
    for (; i + lanes <= n; i += lanes) {
        products(values + i, 0, x, product);
        for (size_t lane = 0; lane < lanes; lane++)
            sum += term(product[lane], x[lane]);
    }
    return add_tail(sum, values, i, n);
}
/* end:vector-sum */

__attribute__((target("avx2")))
static void products_of_8(const float *values, float shift, float *x, float *product)
{
    floats8 v, p;
    memcpy(&v, values, sizeof v);
    v += shift;
    p = _ZGVdN8v_sinf(v) * _ZGVdN8v_cosf(v);
    memcpy(x, &v, sizeof v);
    memcpy(product, &p, sizeof p);
}

__attribute__((target("avx512f")))
static void products_of_16(const float *values, float shift, float *x, float *product)
{
    floats16 v, p;
    memcpy(&v, values, sizeof v);
    v += shift;
    p = _ZGVeN16v_sinf(v) * _ZGVeN16v_cosf(v);
    memcpy(x, &v, sizeof v);
    memcpy(product, &p, sizeof p);
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
    case 4:  return sum_at_a_time(values, n, 4, products_of_4);
    case 8:  return sum_at_a_time(values, n, 8, products_of_8);
    case 16: return sum_at_a_time(values, n, 16, products_of_16);
    default: return add_tail(0, values, 0, n);
    }
}

void sin_cos_products(const float *values, float shift, float *x, float *product, int lanes)
{
    switch (lanes) {
    case 4:  products_of_4(values, shift, x, product); break;
    case 8:  products_of_8(values, shift, x, product); break;
    case 16: products_of_16(values, shift, x, product); break;
    default: products_one_at_a_time(values, shift, x, product, lanes);
    }
}

#else   /* libmvec is called here through the x86-64 vector ABI only */

bool vector_width_runs(int lanes) { return lanes == 1; }

double vector_sum(const float *values, size_t n, int lanes)
{
    (void)lanes;
    return add_tail(0, values, 0, n);
}

void sin_cos_products(const float *values, float shift, float *x, float *product, int lanes)
{
    products_one_at_a_time(values, shift, x, product, lanes);
}

#endif
