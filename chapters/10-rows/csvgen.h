/* csvgen.h - the chapter's deterministic CSV (csvgen.c). */
#ifndef CH10_CSVGEN_H
#define CH10_CSVGEN_H

#include <stdint.h>

enum { CSV_KEYS = 100 };   /* keys k000 .. k099 */

/* Writes the header and `rows` rows for `seed` to fd; returns the bytes written. */
uint64_t write_csv(int fd, int64_t rows, uint64_t seed);

#endif
