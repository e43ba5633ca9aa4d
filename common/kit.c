/* kit.c - the few variables every file of a chapter program shares, defined once.
 *
 * The helpers in the common headers are `static inline`, so each file of a program has its own copy
 * of the code; the state they keep must be one, or a stop signal caught in one file would go
 * unseen in another, and a child started in the teaching file would be unknown to the
 * driver's cleanup. The Makefile links this file into every chapter program.
 */
#define _GNU_SOURCE
#include "cli.h"
#include "proc.h"
#include "bench.h"

const char *kit_prog = "kit";
const char *kit_usage = "";

volatile sig_atomic_t stop_signal;
void (*stop_cleanup)(void);

void (*kit_cleanups[KIT_CLEANUPS])(void);
int kit_cleanup_count;

struct child children[MAX_CHILDREN];
int child_count;
pid_t children_owner;

struct open_tsv open_tsvs[MAX_OPEN_TSVS];
