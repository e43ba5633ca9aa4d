/* vector.h - what vector.c (the arithmetic through glibc's vector sin and cos) offers main.c. */
#ifndef CH09_VECTOR_H
#define CH09_VECTOR_H

#include <stdbool.h>
#include <stddef.h>

/* Whether this CPU runs sin and cos `lanes` values at a time (1, 4, 8 or 16). */
bool vector_width_runs(int lanes);

/* The sum over `n` values of sin(x) * cos(x) + sqrt(|x|), sin and cos `lanes` values at a time,
 * each value's term added in value order. */
double vector_sum(const float *values, size_t n, int lanes);

/* For one vector register's worth of values (`lanes`: 4, 8 or 16, a width that runs): x =
 * value + shift, and sin(x) * cos(x) into product, through libmvec. */
void sin_cos_products(const float *values, float shift, float *x, float *product, int lanes);

#endif
