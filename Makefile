# Multiprocessing performance from first principles -- every entry point.
#
#   make                  build every chapter program into build/
#   make chapterN         check deps, build, run chapter N (classroom size), draw its figures
#                         (pass options with ARGS="--quick", e.g. make chapter1 ARGS="--only rss")
#   make figures          run every written chapter, then draw every figure into plots/out/
#                         (REFERENCE=1 also refreshes plots/reference/, the figures the book embeds;
#                         CHAPTERS="3 6" only those chapters)
#   make test             build, then the bats suite (every program in --quick mode)
#   make test SANITIZE=1  the same with AddressSanitizer + UBSan builds (in build/sanitize/)
#   make peers            the chapters' numbers beside independent tools (stress-ng, perf bench)
#   make book             refresh the code excerpts in book.md from the sources
#   make book-html        book.md as one standalone page, build/book.html (pandoc)
#   make deps             install the missing Debian packages
#   make clean            remove build/, results/ and plots/out/

CC      ?= cc
CFLAGS  := -std=c11 -O2 -Wall -Wextra -Werror -Icommon
LDLIBS  := -pthread -lrt -lm
BUILD   := build

ifeq ($(SANITIZE),1)
BUILD   := build/sanitize
CFLAGS  := -std=c11 -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
           -fno-sanitize-recover=undefined -Wall -Wextra -Werror -Icommon
endif

# chapters/01-fork/*.c -> build/ch01-fork: the program is named after its chapter.
CHAPTER_DIRS := $(sort $(patsubst %/,%,$(dir $(wildcard chapters/*/*.c))))
PROGRAMS     := $(foreach d,$(CHAPTER_DIRS),$(BUILD)/ch$(notdir $(d)))

export PARALLEL := --will-cite
export KIT_BUILD := $(abspath $(BUILD))
export KIT_GIT := $(shell git describe --always --dirty 2>/dev/null || echo unknown)

.DELETE_ON_ERROR:
.PHONY: all test peers figures book book-html deps clean FORCE
.SECONDEXPANSION:

all: $(PROGRAMS)

# A static pattern rule: only the programs, never the .d files included below.
# common/kit.c holds the few variables the common/ headers share across a program's files.
$(PROGRAMS): $(BUILD)/ch%: $$(wildcard chapters/$$*/*.c chapters/$$*/*.h) common/kit.c Makefile \
                           $(BUILD)/compiler
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -MMD -MP -MF $@.d -o $@ $(filter %.c,$^) $(LDLIBS)

-include $(wildcard $(BUILD)/*.d)

# The compiler and flags the programs were built with: a program built by `make CC=clang` is
# rebuilt by a plain `make`, not measured as if gcc had made it.
$(BUILD)/compiler: FORCE
	@mkdir -p $(@D)
	@echo '$(CC) $(CFLAGS)' | cmp -s - $@ || echo '$(CC) $(CFLAGS)' > $@

# A source file renamed or removed is still named by an old .d file: rebuild, do not stop.
chapters/%.c chapters/%.h: ;

chapter%: FORCE
	@harness/run-chapter.sh $* $(ARGS)

# bats 1.8.2's within-file parallelism polls with `sleep 1`: run whole files side by side.
# The programs are built side by side first (half the time on 2 cores; -j in MAKEFLAGS would
# also reach the make that run-chapter.sh starts, which has no jobserver there).
test:
	@$(MAKE) --no-print-directory -j$$(nproc) --output-sync=target all
	@harness/deps.sh test
	@harness/book-sync.sh --check
	@if command -v parallel >/dev/null; then \
	    bats --jobs $$(nproc) --no-parallelize-within-files $(TEST_FILES); \
	else \
	    echo "GNU parallel not found: running the tests one file at a time"; bats $(TEST_FILES); \
	fi

# The test files, longest first (their times on 2 cores), so that the suite does not end with
# one long file running alone; a file not named here runs after them.
TEST_ORDER := ch01-fork ch06-rectangles ch09-casestudy ch02-pool ch03-ipc harness faults cluster \
              ch10-rows ch05-mmap ch08-monitor ch04-locks ch07-prodcons
TEST_FILES := $(wildcard $(TEST_ORDER:%=tests/%.bats)) \
              $(filter-out $(TEST_ORDER:%=tests/%.bats),$(sort $(wildcard tests/*.bats)))

figures: all
	@harness/figures.sh $(if $(REFERENCE),--reference) $(CHAPTERS)

peers: all
	@harness/peers.sh

book:
	@harness/book-sync.sh --update

book-html:
	@harness/deps.sh book
	@harness/book-html.sh

deps:
	@harness/deps.sh install

clean:
	rm -rf build results plots/out
