# fleetrun: build, deps, test, demo, bench, install.
#
#   make            bin/fleetrun and bin/fleetrun-worker
#   make deps       install the Debian packages the build and tests need, and
#                   build libssh2 1.11.1 into build/libssh2 where the system's is older
#   make test       deps, build, unit tests (cmocka), integration tests (pytest)
#   make test SAN=1 the same with ASan+UBSan (binaries in build/san/bin)
#   make demo       run real jobs over the loopback lab and show the results
#   make bench      benchmarks against peers (figures printed, not asserted)
#   make fuzz       libFuzzer targets, FUZZ_SECONDS (60) each; not part of test
#   make install PREFIX=/usr/local   (binaries, jobs, man pages, bash completion)
#   make clean      remove what make built but build/libssh2; distclean: that too

CC      ?= gcc
PYTHON  := /usr/bin/python3
PREFIX  ?= /usr/local
VERSION := 0.1.0

PKGS    := yajl yaml-0.1 libpcre2-8 msgpack libcurl libcrypto
# The libcurl workers load (and fleetrun --version names): its soname
# since 2006.
LIBCURL_SONAME := libcurl.so.4
CFLAGS_BASE := -std=gnu11 -g -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter \
	-D_GNU_SOURCE -DFLEETRUN_VERSION='"$(VERSION)"' -DFLEETRUN_LIBCURL_SONAME='"$(LIBCURL_SONAME)"' -Icommon

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

# libssh2 >= 1.11.1: rsa-sha2-256/512 (OpenSSH >= 8.8 refuses ssh-rsa),
# Terrapin's strict key exchange (CVE-2023-48795), non-blocking transport
# fixes. A system libssh2 that new is used as is; an older one (Debian 12
# has 1.10) is left alone for the programs that use it, and make deps
# builds 1.11.1 from Debian trixie's source package into build/libssh2
# (below, after deps), which the programs link statically.
LIBSSH2_MIN := 1.11.1
LIBSSH2_DIR := build/libssh2
LIBSSH2_A   := $(LIBSSH2_DIR)/lib/libssh2.a
LIBSSH2_SYSTEM := $(shell pkg-config --atleast-version=$(LIBSSH2_MIN) libssh2 2>/dev/null && echo yes)
ifeq ($(LIBSSH2_SYSTEM),yes)
LIBSSH2_CFLAGS = $(shell pkg-config --cflags libssh2)
LIBSSH2_LIBS   = $(shell pkg-config --libs libssh2)
LIBSSH2_BUILT  :=
LIBSSH2_HOW    := shared, the system libssh2
else
# Its headers before any system include directory. --exclude-libs keeps
# its symbols out of the programs' dynamic symbol table: the libcurl a
# worker loads calls the system's libssh2.so.1, and must keep calling it.
LIBSSH2_CFLAGS := -I$(LIBSSH2_DIR)/include
LIBSSH2_LIBS    = $(LIBSSH2_A) -Wl,--exclude-libs,libssh2.a $(shell pkg-config --libs libcrypto zlib 2>/dev/null)
LIBSSH2_BUILT  := $(LIBSSH2_A)
LIBSSH2_HOW     = static, built from Debian trixie source package $(shell cat $(LIBSSH2_DIR)/VERSION 2>/dev/null)
endif

# pkg-config is only asked once the packages are there (make deps first).
PKG_CFLAGS = $(LIBSSH2_CFLAGS) $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
# libjq ships no pkg-config file in Debian 12
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null) $(LIBSSH2_LIBS) -ljq -lm
# The worker loads libcurl with dlopen when a job has HTTP steps (its ~40
# libraries cost every worker ~5 ms to bind otherwise): its headers only.
WORKER_LIBS = $(shell pkg-config --libs $(filter-out libcurl,$(PKGS)) 2>/dev/null) $(LIBSSH2_LIBS) -ljq -lm
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

.PHONY: all build deps libssh2 bench-deps test unit integration demo bench install clean distclean lab-stop \
	fuzz fuzz-deps fuzz-build fuzz-run
.DEFAULT_GOAL := all

# `all` checks the packages first; the sub-make then sees pkg-config's
# answers for packages deps may just have installed.
all: deps
	@$(MAKE) --no-print-directory build

build: $(BINDIR)/fleetrun $(BINDIR)/fleetrun-worker
	@:

# Everything is compiled again when libssh2 is built anew (its headers).
$(BUILD)/%.o: %.c $(wildcard common/*.h runner/*.h worker/*.h) $(LIBSSH2_BUILT)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(PKG_CFLAGS) -Irunner -Iworker -c $< -o $@

# fleetrun --version says which libssh2 the programs were linked with.
$(BUILD)/runner/version.o: CFLAGS += -DFLEETRUN_LIBSSH2_HOW='"$(LIBSSH2_HOW)"'

# The report page is built into the program (.incbin in report_html.c).
$(BUILD)/runner/report_html.o: runner/report_page.html

$(BUILD)/libcommon.a: $(COMMON_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BINDIR)/fleetrun: $(RUNNER_OBJ) $(BUILD)/libcommon.a $(LIBSSH2_BUILT)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $(RUNNER_OBJ) $(BUILD)/libcommon.a $(PKG_LIBS)

$(BINDIR)/fleetrun-worker: $(WORKER_OBJ) $(BUILD)/libcommon.a $(LIBSSH2_BUILT)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $(WORKER_OBJ) $(BUILD)/libcommon.a $(WORKER_LIBS)

# The supervisor's modules but main(), so unit tests can link them.
$(BUILD)/librunner.a: $(filter-out $(BUILD)/runner/main.o,$(RUNNER_OBJ))
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/librunner.a $(BUILD)/libcommon.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(PKG_CFLAGS) -Irunner -Itests/unit -o $@ $< $(BUILD)/librunner.a $(BUILD)/libcommon.a $(PKG_LIBS) -lcmocka

# Debian packages: the product's libraries, then what the tests and the demo
# run against. Idempotent: apt-get is only called when something is missing.
# libssh2-1-dev: its pkg-config file says whether the system's libssh2 will
# do; dpkg-dev (apt-get source), libssl-dev and zlib1g-dev build the one
# make deps fetches when it will not.
DEB_PKGS := gcc make pkg-config libc6-dev libmsgpack-dev libyaml-dev libyajl-dev \
	libpcre2-dev libcmocka-dev libssh2-1-dev libssl-dev zlib1g-dev dpkg-dev libcurl4-openssl-dev libjq-dev python3 python3-pytest python3-textfsm procps iputils-ping time bash \
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

# The sub-make asks pkg-config about libssh2 once the packages are there.
# Fetching libssh2 needs trixie's keys, which Debian 12's
# debian-archive-keyring has since 2023.3+deb12u2 (April 2025): an older
# one is upgraded (from the machine's own sources) when it is needed.
deps:
	$(call apt_install,$(DEB_PKGS))
	@pkg-config --atleast-version=$(LIBSSH2_MIN) libssh2 || [ -e $(LIBSSH2_A) ] || \
	for k in $(LIBSSH2_KEYRINGS); do [ -r $$k ] || { \
		echo "make $@: upgrading debian-archive-keyring (it has no key of Debian $(LIBSSH2_SUITE))"; \
		$(SUDO) apt-get -o DPkg::Lock::Timeout=600 update -q && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get -o DPkg::Lock::Timeout=600 install -y -q \
			--no-install-recommends debian-archive-keyring; break; }; done
	@$(MAKE) --no-print-directory libssh2

libssh2: $(LIBSSH2_BUILT)
	@echo "libssh2: $$(pkg-config --modversion libssh2) is the system's;" \
		"$(if $(LIBSSH2_BUILT),using $(LIBSSH2_MIN) ($(LIBSSH2_HOW)) from $(LIBSSH2_A),using it)"

# Fetching libssh2 $(LIBSSH2_MIN): Debian's source package rather than
# upstream's tarball, for the security patches Debian adds, and because apt
# checks it: the suite's index against trixie's own keys (signed-by; never
# trusted=yes), the source files against the index. The sources line,
# apt's lists and its cache live in a temporary directory given to these
# apt calls alone, so the machine's apt configuration stays as it was; as
# nothing is installed, no root. As root, apt downloads as the _apt user:
# the directory is world-readable and the one apt-get source downloads
# into is _apt's. The newest Debian revision of $(LIBSSH2_MIN) is taken
# (trixie's security updates come as new revisions). VERSION is written
# last: it is the target.
LIBSSH2_SUITE    := trixie
LIBSSH2_MIRROR   := http://deb.debian.org/debian
LIBSSH2_KEYRINGS := /usr/share/keyrings/debian-archive-trixie-stable.gpg \
	/usr/share/keyrings/debian-archive-trixie-automatic.gpg
comma := ,
empty :=
space := $(empty) $(empty)
LIBSSH2_APT = -q -o Dir::Etc::SourceList=$$tmp/sources.list -o Dir::Etc::SourceParts=$$tmp/sources.list.d \
	-o Dir::State::Lists=$$tmp/lists -o Dir::Cache=$$tmp/cache

$(LIBSSH2_DIR)/VERSION:
	@for k in $(LIBSSH2_KEYRINGS); do [ -r $$k ] || { \
		echo "make: $$k is missing: debian-archive-keyring has no key of Debian $(LIBSSH2_SUITE)," \
			"so apt cannot check its libssh2 source package; upgrade debian-archive-keyring" \
			"(2023.3+deb12u2 or later) and run make deps again" >&2; exit 1; }; done
	@set -e; tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; chmod 755 "$$tmp"; \
	mkdir -p "$$tmp/sources.list.d" "$$tmp/lists/partial" "$$tmp/cache/archives/partial" "$$tmp/get"; \
	if [ "$$(id -u)" = 0 ] && id _apt > /dev/null 2>&1; then chown _apt "$$tmp/get"; fi; \
	echo "deb-src [signed-by=$(subst $(space),$(comma),$(strip $(LIBSSH2_KEYRINGS)))]" \
		"$(LIBSSH2_MIRROR) $(LIBSSH2_SUITE) main" > "$$tmp/sources.list"; \
	echo "make: libssh2: fetching Debian $(LIBSSH2_SUITE)'s source index (apt checks its signatures)"; \
	apt-get $(LIBSSH2_APT) --error-on=any update > "$$tmp/log" 2>&1 || { cat "$$tmp/log" >&2; \
		echo "make: apt-get update of Debian $(LIBSSH2_SUITE)'s source index failed (above)" >&2; exit 1; }; \
	v=$$(apt-cache $(LIBSSH2_APT) showsrc libssh2 | \
		awk '$$1 == "Version:" && index($$2, "$(LIBSSH2_MIN)-") == 1 { print $$2 }' | sort -V | tail -n 1); \
	[ -n "$$v" ] || { echo "make: Debian $(LIBSSH2_SUITE) has no libssh2 $(LIBSSH2_MIN)-* source package" >&2; \
		exit 1; }; \
	echo "make: libssh2: apt-get source libssh2=$$v"; \
	(cd "$$tmp/get" && apt-get $(LIBSSH2_APT) source "libssh2=$$v") > "$$tmp/log" 2>&1 || { \
		cat "$$tmp/log" >&2; echo "make: apt-get source libssh2=$$v failed (above)" >&2; exit 1; }; \
	rm -rf $(LIBSSH2_DIR); mkdir -p $(LIBSSH2_DIR); \
	mv "$$tmp/get/libssh2-$(LIBSSH2_MIN)" $(LIBSSH2_DIR)/src; \
	echo "$$v" > $@

# Building it: only the library (make in src/), not its tests, examples or
# documentation; static only, so no -fPIC; -O2; the system's OpenSSL
# (libcrypto) and zlib. In its own make, out of the tree, without our
# make's flags and variables. libssh2.a is copied last: it is the target.
$(LIBSSH2_A): $(LIBSSH2_DIR)/VERSION
	@echo "make: libssh2: building $$(cat $<) (static; OpenSSL, zlib) in $(LIBSSH2_DIR)"
	@rm -rf $(LIBSSH2_DIR)/obj $(LIBSSH2_DIR)/include $(LIBSSH2_DIR)/lib
	@mkdir -p $(LIBSSH2_DIR)/obj $(LIBSSH2_DIR)/include $(LIBSSH2_DIR)/lib
	@cd $(LIBSSH2_DIR)/obj && CC="$(CC)" CFLAGS="-O2 -g" ../src/configure -q --disable-shared --enable-static \
		--with-crypto=openssl --with-libz --disable-examples-build --disable-docker-tests \
		--disable-sshd-tests --disable-dependency-tracking --disable-debug --disable-werror \
		> configure.log 2>&1 || { tail -n 40 configure.log >&2; \
		echo "make: libssh2's configure failed (above; $(LIBSSH2_DIR)/obj/config.log)" >&2; exit 1; }
	@env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s -C $(LIBSSH2_DIR)/obj/src -j$$(nproc) \
		> $(LIBSSH2_DIR)/obj/make.log 2>&1 || { tail -n 40 $(LIBSSH2_DIR)/obj/make.log >&2; \
		echo "make: building libssh2 failed (above; $(LIBSSH2_DIR)/obj/make.log)" >&2; exit 1; }
	@cp $(LIBSSH2_DIR)/src/include/*.h $(LIBSSH2_DIR)/include/
	@cp $(LIBSSH2_DIR)/obj/src/.libs/libssh2.a $@.tmp && mv $@.tmp $@
	@echo "make: libssh2: $@ is libssh2 $$(cat $<)"

unit: $(UNIT_BIN)
	@fail=0; for t in $(UNIT_BIN); do \
		echo "== $$t"; $$t || fail=1; \
	done; exit $$fail

# Under ASan the tests' honest crashes (kill -SEGV $$PPID) must stay
# crashes: ASan's own SEGV handler would turn them into slow reports.
# tests/lsan.supp: leaks inside libssh2 that fleetrun cannot free (why, there)
SAN_ENV := $(if $(filter san,$(FLAVOR)),ASAN_OPTIONS=handle_segv=0:detect_leaks=1 \
	LSAN_OPTIONS=suppressions=$(abspath tests/lsan.supp):print_suppressions=0 UBSAN_OPTIONS=print_stacktrace=1,)

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

# The peers the benchmarks compare with: the SSH tools, requests and curl
# (http), netmiko and Ansible's network_cli with the cisco.ios collection
# (cli: Debian's ansible ships the collections, paramiko comes with it),
# Python's textfsm (textfsm).
BENCH_PKGS := pssh pdsh parallel time python3-requests curl python3-netmiko ansible python3-textfsm

bench-deps:
	$(call apt_install,$(BENCH_PKGS))

# The TextFSM engine timed alone (tests/bench/textfsm_speed.c), as the
# textfsm benchmark times Python's ParseText alone.
BENCH_TEXTFSM := $(BUILD)/bench/textfsm_speed
$(BENCH_TEXTFSM): tests/bench/textfsm_speed.c $(BUILD)/libcommon.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(PKG_CFLAGS) -o $@ $< $(BUILD)/libcommon.a $(PKG_LIBS)

# QUICK=1: smaller sizes, one run each. AGAINST=DIR: another build's bin
# directory, timed side by side with this one (dispatch, CPU per host).
# ONLY=a,b: those benchmarks only (run.py --only).
bench: all bench-deps
	@$(MAKE) --no-print-directory $(BENCH_TEXTFSM)
	@tests/lab/netns $(PYTHON) tests/bench/run.py --bindir $(abspath $(BINDIR)) \
		--textfsm-speed $(abspath $(BENCH_TEXTFSM)) $(if $(ONLY),--only $(ONLY)) \
		$(if $(QUICK),--quick) $(if $(AGAINST),--against $(abspath $(AGAINST)))

# libFuzzer targets (tests/fuzz): the frame reader, the protocol decoder
# and record renderer, the job parser, the inventory parsers, the TextFSM
# template parser and the TextFSM engine. Built with
# clang (libFuzzer ships with it) and ASan+UBSan in build/fuzz; each runs
# FUZZ_SECONDS on a scratch copy of its seed corpus (the repo's seeds stay
# as they are); FUZZ_SECONDS=0 runs each over its seeds only. Exits
# non-zero when a target finds a crash, naming the reproducer.
FUZZ_PKGS    := clang
FUZZ_CC      := clang
FUZZ_SECONDS ?= 60
FUZZ_TARGETS := frame proto job inventory sshconfig textfsm_template textfsm_engine
FUZZ_BUILD   := build/fuzz
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=undefined
FUZZ_CFLAGS  := $(CFLAGS_BASE) -O1 -fno-omit-frame-pointer $(FUZZ_SAN)
# The runner modules the targets reach: records, journal lines and task
# keys (proto), the inventory sources, host ranges and the targets
# iterator (inventory).
FUZZ_RUNNER  := record journal task hostname hostrange inventory inventory_text inventory_yaml targets exclude shard
FUZZ_OBJ     := $(COMMON_SRC:%.c=$(FUZZ_BUILD)/%.o) $(FUZZ_RUNNER:%=$(FUZZ_BUILD)/runner/%.o)
FUZZ_BIN     := $(FUZZ_TARGETS:%=$(FUZZ_BUILD)/fuzz_%)
# Longest input per target: a few frames, one message, a job file, an
# inventory, a template, a command's output.
FUZZ_MAXLEN_frame     := 8192
FUZZ_MAXLEN_proto     := 4096
FUZZ_MAXLEN_job       := 8192
FUZZ_MAXLEN_inventory := 4096
FUZZ_MAXLEN_sshconfig := 4096
FUZZ_MAXLEN_textfsm_template := 4096
FUZZ_MAXLEN_textfsm_engine   := 8192

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
			job) ml=$(FUZZ_MAXLEN_job);; sshconfig) ml=$(FUZZ_MAXLEN_sshconfig);; \
			textfsm_template) ml=$(FUZZ_MAXLEN_textfsm_template);; \
			textfsm_engine) ml=$(FUZZ_MAXLEN_textfsm_engine);; *) ml=$(FUZZ_MAXLEN_inventory);; esac; \
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
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/fleetrun/jobs.d/platforms \
		$(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/share/man/man5 $(DESTDIR)$(COMPLETIONS)
	install -m 0755 $(BINDIR)/fleetrun $(BINDIR)/fleetrun-worker $(DESTDIR)$(PREFIX)/bin/
	install -m 0644 jobs.d/*.yaml $(DESTDIR)$(PREFIX)/share/fleetrun/jobs.d/
	install -m 0644 jobs.d/platforms/*.yaml $(DESTDIR)$(PREFIX)/share/fleetrun/jobs.d/platforms/
	install -m 0644 runner/doc/fleetrun.1 $(DESTDIR)$(PREFIX)/share/man/man1/
	install -m 0644 runner/doc/fleetrun-jobs.5 $(DESTDIR)$(PREFIX)/share/man/man5/
	install -m 0644 runner/doc/fleetrun.bash $(DESTDIR)$(COMPLETIONS)/fleetrun

# clean keeps build/libssh2 (fetched, not ours to rebuild at each clean);
# distclean removes it too.
clean:
	rm -rf bin $(filter-out $(LIBSSH2_DIR),$(wildcard build/*))

distclean:
	rm -rf build bin
