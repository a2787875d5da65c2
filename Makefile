# fleetrun: build, deps, test, demo, bench, install.
#
#   make            bin/fleetrun and bin/fleetrun-worker
#   make deps       install the Debian packages the build and tests need
#   make test       deps, build, unit tests (cmocka), integration tests (pytest)
#   make test SAN=1 the same with ASan+UBSan (binaries in build/san/bin)
#   make demo       run real jobs over the loopback lab and show the results
#   make bench      benchmarks against peers (figures printed, not asserted)
#   make fuzz       libFuzzer targets, FUZZ_SECONDS (60) each; not part of test
#   make install PREFIX=/usr/local   (binaries, jobs, man pages, bash completion)

CC      ?= gcc
PYTHON  := /usr/bin/python3
PREFIX  ?= /usr/local
VERSION := 0.1.0

PKGS    := yajl yaml-0.1 libpcre2-8 msgpack libssh2 libcurl libcrypto
CFLAGS_BASE := -std=gnu11 -g -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter \
	-D_GNU_SOURCE -DFLEETRUN_VERSION='"$(VERSION)"' -Icommon

ifeq ($(SAN),1)
FLAVOR  := san
OPT     := -O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined
BINDIR  := build/san/bin
else
FLAVOR  := rel
OPT     := -O2
BINDIR  := bin
endif

BUILD   := build/$(FLAVOR)
# pkg-config is only asked once the packages are there (make deps first).
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
# libjq ships no pkg-config file in Debian 12
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null) -ljq -lm
# The worker loads libcurl with dlopen when a job has HTTP steps (its ~40
# libraries cost every worker ~5 ms to bind otherwise): its headers only.
WORKER_LIBS = $(shell pkg-config --libs $(filter-out libcurl,$(PKGS)) 2>/dev/null) -ljq -lm
CFLAGS  := $(CFLAGS_BASE) $(OPT) $(EXTRA_CFLAGS)
LDFLAGS := $(OPT) $(EXTRA_LDFLAGS)

COMMON_SRC := $(wildcard common/*.c)
RUNNER_SRC := $(wildcard runner/*.c)
WORKER_SRC := $(wildcard worker/*.c)
UNIT_SRC   := $(wildcard tests/unit/test_*.c)

COMMON_OBJ := $(COMMON_SRC:%.c=$(BUILD)/%.o)
RUNNER_OBJ := $(RUNNER_SRC:%.c=$(BUILD)/%.o)
WORKER_OBJ := $(WORKER_SRC:%.c=$(BUILD)/%.o)
UNIT_BIN   := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)

.PHONY: all build deps bench-deps test unit integration demo bench install clean lab-stop \
	fuzz fuzz-deps fuzz-build fuzz-run
.DEFAULT_GOAL := all

# `all` checks the packages first; the sub-make then sees pkg-config's
# answers for packages deps may just have installed.
all: deps
	@$(MAKE) --no-print-directory build

build: $(BINDIR)/fleetrun $(BINDIR)/fleetrun-worker
	@:

$(BUILD)/%.o: %.c $(wildcard common/*.h runner/*.h worker/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(PKG_CFLAGS) -Irunner -Iworker -c $< -o $@

# The report page is built into the program (.incbin in report_html.c).
$(BUILD)/runner/report_html.o: runner/report_page.html

$(BUILD)/libcommon.a: $(COMMON_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BINDIR)/fleetrun: $(RUNNER_OBJ) $(BUILD)/libcommon.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(BINDIR)/fleetrun-worker: $(WORKER_OBJ) $(BUILD)/libcommon.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(WORKER_LIBS)

# The supervisor's modules but main(), so unit tests can link them.
$(BUILD)/librunner.a: $(filter-out $(BUILD)/runner/main.o,$(RUNNER_OBJ))
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/librunner.a $(BUILD)/libcommon.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(PKG_CFLAGS) -Irunner -Itests/unit -o $@ $< $(BUILD)/librunner.a $(BUILD)/libcommon.a $(PKG_LIBS) -lcmocka

# Debian packages: the product's libraries, then what the tests and the demo
# run against. Idempotent: apt-get is only called when something is missing.
DEB_PKGS := gcc make pkg-config libc6-dev libmsgpack-dev libyaml-dev libyajl-dev \
	libpcre2-dev libcmocka-dev libssh2-1-dev libssl-dev libcurl4-openssl-dev libjq-dev python3 python3-pytest procps iputils-ping time bash \
	coreutils util-linux iproute2 openssh-server openssh-client nginx libnginx-mod-http-echo openssl curl \
	chromium man-db groff-base slurm-wlm munge python3-yaml
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

# Install the Debian packages of $(1) that are missing. apt-get waits for
# the dpkg lock rather than failing when another install holds it.
define apt_install
	@missing=$$(for p in $(1); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; \
	done); \
	if [ -n "$$missing" ]; then \
		echo "make $@: installing $$missing"; \
		$(SUDO) apt-get -o DPkg::Lock::Timeout=600 update -q && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get -o DPkg::Lock::Timeout=600 install -y -q \
			--no-install-recommends $$missing; \
	fi
endef

deps:
	$(call apt_install,$(DEB_PKGS))

unit: $(UNIT_BIN)
	@fail=0; for t in $(UNIT_BIN); do \
		echo "== $$t"; $$t || fail=1; \
	done; exit $$fail

# Under ASan the tests' honest crashes (kill -SEGV $$PPID) must stay
# crashes: ASan's own SEGV handler would turn them into slow reports.
SAN_ENV := $(if $(filter san,$(FLAVOR)),ASAN_OPTIONS=handle_segv=0:detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1,)

integration: all
	$(SAN_ENV) FLEETRUN_BINDIR=$(abspath $(BINDIR)) tests/lab/netns $(PYTHON) -m pytest -q -p no:cacheprovider tests/integration

# make test: every runner runs even when an earlier one failed; the exit
# status is non-zero when any of them failed.
test: all
	@$(MAKE) --no-print-directory $(UNIT_BIN)
	@fail=0; \
	$(MAKE) --no-print-directory unit || fail=1; \
	$(MAKE) --no-print-directory integration || fail=1; \
	exit $$fail

demo: all
	@tests/lab/netns $(PYTHON) tests/lab/demo.py --bindir $(abspath $(BINDIR))

# The peers the benchmarks compare with.
BENCH_PKGS := pssh pdsh parallel time python3-requests curl

bench-deps:
	$(call apt_install,$(BENCH_PKGS))

# QUICK=1: smaller sizes, one run each. AGAINST=DIR: another build's bin
# directory, timed side by side with this one (dispatch, CPU per host).
bench: all bench-deps
	@tests/lab/netns $(PYTHON) tests/bench/run.py --bindir $(abspath $(BINDIR)) \
		$(if $(QUICK),--quick) $(if $(AGAINST),--against $(abspath $(AGAINST)))

# libFuzzer targets (tests/fuzz): the frame reader, the protocol decoder
# and record renderer, the job parser, the inventory parsers. Built with
# clang (libFuzzer ships with it) and ASan+UBSan in build/fuzz; each runs
# FUZZ_SECONDS on a scratch copy of its seed corpus (the repo's seeds stay
# as they are); FUZZ_SECONDS=0 runs each over its seeds only. Exits
# non-zero when a target finds a crash, naming the reproducer.
FUZZ_PKGS    := clang
FUZZ_CC      := clang
FUZZ_SECONDS ?= 60
FUZZ_TARGETS := frame proto job inventory
FUZZ_BUILD   := build/fuzz
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=undefined
FUZZ_CFLAGS  := $(CFLAGS_BASE) -O1 -fno-omit-frame-pointer $(FUZZ_SAN)
# The runner modules the targets reach: records, journal lines and task
# keys (proto), the inventory sources, host ranges and the targets
# iterator (inventory).
FUZZ_RUNNER  := record journal task hostname hostrange inventory inventory_text inventory_yaml targets shard
FUZZ_OBJ     := $(COMMON_SRC:%.c=$(FUZZ_BUILD)/%.o) $(FUZZ_RUNNER:%=$(FUZZ_BUILD)/runner/%.o)
FUZZ_BIN     := $(FUZZ_TARGETS:%=$(FUZZ_BUILD)/fuzz_%)
# Longest input per target: a few frames, one message, a job file, an inventory.
FUZZ_MAXLEN_frame     := 8192
FUZZ_MAXLEN_proto     := 4096
FUZZ_MAXLEN_job       := 8192
FUZZ_MAXLEN_inventory := 4096

fuzz-deps:
	$(call apt_install,$(FUZZ_PKGS))

$(FUZZ_BUILD)/%.o: %.c $(wildcard common/*.h runner/*.h)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link $(PKG_CFLAGS) -Irunner -c $< -o $@

$(FUZZ_BUILD)/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_OBJ)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer $(PKG_CFLAGS) -Irunner -o $@ $< $(FUZZ_OBJ) $(PKG_LIBS)

fuzz-build: $(FUZZ_BIN)

# Kept between builds: make would delete them as intermediates of fuzz_%.
.SECONDARY: $(FUZZ_OBJ)

# One target at a time, each one process (libFuzzer's default; -jobs=N
# would fork workers logging to ./fuzz-N.log); artifacts land in
# build/fuzz/artifacts/TARGET/.
fuzz-run: fuzz-build
	@fail=0; for t in $(FUZZ_TARGETS); do \
		work=$(FUZZ_BUILD)/run/$$t; art=$(FUZZ_BUILD)/artifacts/$$t/; \
		rm -rf $$work; mkdir -p $$work $$art; cp tests/fuzz/corpus/$$t/* $$work/; \
		case $$t in frame) ml=$(FUZZ_MAXLEN_frame);; proto) ml=$(FUZZ_MAXLEN_proto);; \
			job) ml=$(FUZZ_MAXLEN_job);; *) ml=$(FUZZ_MAXLEN_inventory);; esac; \
		if [ "$(FUZZ_SECONDS)" = 0 ]; then how="-runs=0"; else how="-max_total_time=$(FUZZ_SECONDS)"; fi; \
		echo "== fuzz_$$t ($$how, -max_len=$$ml)"; \
		ls $$art | sed "s|^|$$art|" | sort > $$work.before; \
		if ! $(FUZZ_BUILD)/fuzz_$$t $$how -max_len=$$ml -rss_limit_mb=2048 -timeout=20 \
			-print_final_stats=1 -artifact_prefix=$$art $$work > $$work.log 2>&1; then \
			fail=1; grep -vE '^#[0-9]+[[:space:]]+(NEW|REDUCE|pulse|INITED)' $$work.log | tail -n 150; \
			echo "fuzz_$$t FAILED; reproducer(s):"; \
			ls $$art | sed "s|^|$$art|" | sort | comm -13 $$work.before - | sed 's/^/  /'; \
			echo "  replay: $(FUZZ_BUILD)/fuzz_$$t FILE"; \
		else \
			grep -E '^(#[0-9]+.*DONE|stat::number_of_executed_units|stat::peak_rss_mb)' $$work.log; \
		fi; \
	done; exit $$fail

fuzz: deps fuzz-deps
	@$(MAKE) --no-print-directory fuzz-run

# Man pages and bash completion come from runner/doc/.
COMPLETIONS := $(PREFIX)/share/bash-completion/completions

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/fleetrun/jobs.d \
		$(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/share/man/man5 $(DESTDIR)$(COMPLETIONS)
	install -m 0755 $(BINDIR)/fleetrun $(BINDIR)/fleetrun-worker $(DESTDIR)$(PREFIX)/bin/
	install -m 0644 jobs.d/*.yaml $(DESTDIR)$(PREFIX)/share/fleetrun/jobs.d/
	install -m 0644 runner/doc/fleetrun.1 $(DESTDIR)$(PREFIX)/share/man/man1/
	install -m 0644 runner/doc/fleetrun-jobs.5 $(DESTDIR)$(PREFIX)/share/man/man5/
	install -m 0644 runner/doc/fleetrun.bash $(DESTDIR)$(COMPLETIONS)/fleetrun

clean:
	rm -rf build bin
