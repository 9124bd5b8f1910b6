# plugnet — one non-recursive build.
#
#   make            build every binary into build/bin/
#   make check      build + the guest image + run the tests (prove), then check for strays
#   make check SANITIZE=1   the same with ASan + UBSan (objects in build/asan)
#   make fuzz       libFuzzer targets (clang), FUZZ_RUNS / FUZZ_TIME / FUZZ_TIMEOUT;
#                   fails on a crash, a leak or a slow input (scripts/fuzz-run.sh)
#   make bench      benchmarks against peers, printing ratios
#   make deps       install the Debian packages (idempotent)
#   make install PREFIX=/usr/local DESTDIR=
#   make clean

BUILD ?= build
ifeq ($(SANITIZE),1)
BUILD := build/asan
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
endif

CC ?= gcc
PREFIX ?= /usr/local
DESTDIR ?=
OPT ?= -O2
CFLAGS ?= $(OPT) -g
CFLAGS += -std=gnu11 -Wall -Wextra -Werror -Wno-unused-parameter -Wno-missing-field-initializers -Wno-format-truncation \
          -fno-strict-aliasing -pthread $(SANFLAGS)
CPPFLAGS += -D_GNU_SOURCE -Iproto -Iservices/common -Icli -MMD -MP
LDFLAGS += -pthread $(SANFLAGS)
LDLIBS := -lzmq -lczmq -lmsgpackc -lsystemd -lyaml -lpcap -lmd -lm

# Modules: name -> sources.  Every daemon's objects except main.c form a
# static library so unit tests can link single modules.
PROTO_SRC := $(wildcard proto/*.c)
SVC_SRC   := $(wildcard services/common/*.c)
DAEMONS   := switchd vmd cfgdiskd agentd
CLI_SRC   := $(wildcard cli/*.c)
TOOLS     := $(patsubst tools/%.c,%,$(wildcard tools/*.c))
UNIT      := $(patsubst tests/unit/%.c,%,$(wildcard tests/unit/*.c))

obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))
daemon_lib_src = $(filter-out services/$(1)/main.c,$(wildcard services/$(1)/*.c))

LIB_PROTO := $(BUILD)/lib/libpnproto.a
LIB_SVC   := $(BUILD)/lib/libpnsvc.a
DAEMON_LIBS := $(foreach d,$(DAEMONS),$(BUILD)/lib/libpn$(d).a)
ALL_LIBS  := $(DAEMON_LIBS) $(LIB_SVC) $(LIB_PROTO)

BINS := $(BUILD)/bin/plugnet $(foreach d,$(DAEMONS),$(BUILD)/bin/plugnet-$(d)) \
        $(foreach t,$(TOOLS),$(BUILD)/bin/$(t))
UNIT_BINS := $(foreach u,$(UNIT),$(BUILD)/tests/unit/$(u).t)

# The in-guest agent: static, built with musl when available.  It carries
# the agent channel codec from proto/ (libc only), never libpnproto.
AGENT_PROTO := proto/ag_chan.c proto/ag_tree.c
AGENT_SRC := $(wildcard services/agentd/guest/*.c) $(AGENT_PROTO)
MUSL_CC := $(shell command -v musl-gcc 2>/dev/null)
AGENT_CC := $(if $(MUSL_CC),$(MUSL_CC),$(CC))
AGENT_BIN := $(if $(AGENT_SRC),$(BUILD)/bin/plugnet-agent)

.PHONY: all check check-unit check-systemd fuzz bench deps install install-files clean image demo docs check-docs
.DEFAULT_GOAL := all
.SECONDARY:

all: $(BINS) $(UNIT_BINS) $(AGENT_BIN)

# The man page, written from the CLI's own help at build time.
MAN := $(BUILD)/man/plugnet.1
all: $(MAN)
$(MAN): $(BUILD)/bin/plugnet scripts/gen-man.sh
	@mkdir -p $(dir $@)
	scripts/gen-man.sh $(BUILD)/bin/plugnet > $@.tmp && mv $@.tmp $@

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c $< -o $@

$(LIB_PROTO): $(call obj,$(PROTO_SRC))
$(LIB_SVC): $(call obj,$(SVC_SRC))
$(foreach d,$(DAEMONS),$(eval $(BUILD)/lib/libpn$(d).a: $(call obj,$(call daemon_lib_src,$(d)))))
$(BUILD)/lib/%.a:
	@mkdir -p $(dir $@)
	@rm -f $@
	$(AR) rcs $@ $^ $(if $^,,$(error empty library $@))

# Empty module libraries are fine: give ar something to hold.
$(foreach d,$(DAEMONS),$(if $(call daemon_lib_src,$(d)),,$(eval $(BUILD)/lib/libpn$(d).a: $(BUILD)/obj/empty.o)))
$(BUILD)/obj/empty.o:
	@mkdir -p $(dir $@)
	echo 'typedef int pn_empty_unit;' | $(CC) $(CFLAGS) -x c -c - -o $@

LINK = $(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) $(ALL_LIBS) $(LDLIBS)

# The CLI links its objects directly (not through the archive) so the weak
# command table in cli/cli.h resolves to every cmd_*.c present.
$(BUILD)/bin/plugnet: $(call obj,$(CLI_SRC)) $(ALL_LIBS)
	@mkdir -p $(dir $@)
	$(LINK)
$(BUILD)/bin/plugnet-%: $(BUILD)/obj/services/%/main.o $(ALL_LIBS)
	@mkdir -p $(dir $@)
	$(LINK)
$(foreach t,$(TOOLS),$(eval $(BUILD)/bin/$(t): $(call obj,tools/$(t).c) $(ALL_LIBS) ; @mkdir -p $$(dir $$@) && $$(LINK)))
$(BUILD)/tests/unit/%.t: $(BUILD)/obj/tests/unit/%.o $(ALL_LIBS)
	@mkdir -p $(dir $@)
	$(LINK)
# The CLI has no library: unit tests of its lab modules (topo_*) link them.
$(foreach u,$(filter topo_%,$(UNIT)),$(eval $(BUILD)/tests/unit/$(u).t: \
    $(call obj,$(wildcard cli/topo*.c cli/events_json.c cli/suggest.c))))

# The guest agent never links the host libraries: it must run anywhere.
$(BUILD)/bin/plugnet-agent: $(AGENT_SRC) $(wildcard services/agentd/guest/*.h) $(AGENT_PROTO:.c=.h)
	@mkdir -p $(dir $@)
	$(AGENT_CC) -std=gnu11 -D_GNU_SOURCE -Os -static -Wall -Wextra -Werror -Wno-unused-parameter \
	    -Iservices/agentd/guest -Iproto -o $@ $(AGENT_SRC)
	strip $@

# --------------------------------------------------------------- docs
docs: docs/PROTOCOL.md
docs/PROTOCOL.md: $(BUILD)/bin/pn-gendoc
	$(BUILD)/bin/pn-gendoc > $@.tmp && mv $@.tmp $@
check-docs: $(BUILD)/bin/pn-gendoc
	@$(BUILD)/bin/pn-gendoc | diff -u docs/PROTOCOL.md - >/dev/null || \
	    { echo "docs/PROTOCOL.md is out of date: run 'make docs' and commit it" >&2; exit 1; }

# --------------------------------------------------------------- tests
PROVE_JOBS ?= 2
TESTS ?= $(UNIT_BINS) $(sort $(wildcard tests/t[0-9]*.sh))
# The guest image is built first (`image`; a failed build stops here), so
# tests running in parallel only read it.  Every process a test starts
# carries PLUGNET_TEST_RUN (and sits in its cgroup); after prove,
# check-strays fails the run if any of them is still alive.
CHECK_RUN = check-$$(date +%s)-$$$$
# No script hangs the suite: each runs under timeout (a body that hangs is
# already failed by lib.sh's watchdog after PLUGNET_TEST_TIMEOUT).
PLUGNET_SCRIPT_TIMEOUT ?= 1800
check: all image
	@run=$(CHECK_RUN); \
	PLUGNET_TEST_RUN=$$run PLUGNET_BUILD=$(abspath $(BUILD)) PLUGNET_SRC=$(CURDIR) \
	    prove --exec 'timeout -k 10 $(PLUGNET_SCRIPT_TIMEOUT)' -j$(PROVE_JOBS) --timer --comments $(PROVE_FLAGS) $(TESTS); rc=$$?; \
	scripts/check-strays.sh $$run || rc=1; \
	exit $$rc

# Show that the suite catches breakage: each tests/mutants/*.patch breaks
# the code on purpose in a throwaway copy of the tree, whose named tests must
# then fail; fails when a mutant survives or no longer applies.
# MUTANT_JOBS (make -j), PROVE_JOBS, MUTANTS (some only: 01 03-agent-...).
MUTANT_JOBS ?= 2
.PHONY: check-mutants
check-mutants:
	MUTANT_JOBS=$(MUTANT_JOBS) PROVE_JOBS=$(PROVE_JOBS) tests/mutants/run $(MUTANTS)

# plugnet under a real systemd in systemd-nspawn (root; debootstraps a
# Debian tree into $(BUILD)/nspawn-root the first time, then reuses it).
check-systemd: all
	PLUGNET_BUILD=$(abspath $(BUILD)) PLUGNET_SRC=$(CURDIR) \
	    prove --exec '' -v --timer $(PROVE_FLAGS) $(sort $(wildcard tests/systemd/t[0-9]*.sh))

# --------------------------------------------------------------- fuzz
# Every target runs through scripts/fuzz-run.sh, which fails on a crash (any
# sanitizer report), a leak, an out-of-memory or an input slower than
# FUZZ_TIMEOUT seconds, by libFuzzer's own exit status; make fuzz runs every
# target and then fails if any did.  FUZZ_DIR lets tests/t0002 run this very
# recipe on a planted target.
FUZZ_DIR ?= fuzz
FUZZ_TARGETS ?= $(patsubst $(FUZZ_DIR)/%.c,%,$(wildcard $(FUZZ_DIR)/*.c))
FUZZ_RUNS ?= 1000000
FUZZ_TIME ?= 120
FUZZ_TIMEOUT ?= 10
FUZZ_CFLAGS := -std=gnu11 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
               -D_GNU_SOURCE \
               -Iproto -Iservices/common -Iservices/switchd -Iservices/agentd \
               -Iservices/cfgdiskd -Iservices/vmd -Icli
# Each target lists the sources it needs on a "// FUZZ_SOURCES:" line.
fuzz_srcs = $(shell sed -n 's|^// FUZZ_SOURCES:||p' $(FUZZ_DIR)/$(1).c)
.SECONDEXPANSION:
$(BUILD)/fuzz/%: $(FUZZ_DIR)/%.c $$(call fuzz_srcs,$$*) $(PROTO_SRC) $(SVC_SRC)
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -o $@ $< $(call fuzz_srcs,$*) $(LDLIBS)
fuzz: $(foreach f,$(FUZZ_TARGETS),$(BUILD)/fuzz/$(f))
	@fail=0; for f in $(FUZZ_TARGETS); do \
	    FUZZ_RUNS=$(FUZZ_RUNS) FUZZ_TIME=$(FUZZ_TIME) FUZZ_TIMEOUT=$(FUZZ_TIMEOUT) \
	        scripts/fuzz-run.sh $(BUILD)/fuzz/$$f $(BUILD)/fuzz/work-$$f $(FUZZ_DIR)/corpus/$$f || fail=1; \
	done; exit $$fail

# --------------------------------------------------------------- bench
bench: all
	PLUGNET_BUILD=$(abspath $(BUILD)) PLUGNET_SRC=$(CURDIR) bench/run

# --------------------------------------------------------------- image / demo
image: all
	images/tiny/build.sh $(BUILD)/image

demo: deps all image
	PLUGNET_BUILD=$(abspath $(BUILD)) examples/demo.sh

# --------------------------------------------------------------- deps
deps:
	@scripts/deps.sh

# --------------------------------------------------------------- install
# Binaries in PREFIX/bin, the in-guest agent in PREFIX/lib/plugnet, units in
# UNITDIR with @PREFIX@ replaced, the guest image recipes in
# PREFIX/share/plugnet/images, docs in PREFIX/share/doc/plugnet.  Then:
#   systemctl daemon-reload && systemctl enable --now plugnet.target
# install-files does the copying without building (tests call it).
UNITDIR ?= $(PREFIX)/lib/systemd/system
UNITS := $(wildcard systemd/*.service systemd/*.target)
install: all
	@$(MAKE) --no-print-directory install-files
install-files:
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/plugnet $(DESTDIR)$(UNITDIR) \
	    $(DESTDIR)$(PREFIX)/share/plugnet $(DESTDIR)$(PREFIX)/share/doc/plugnet
	install -m 0755 $(BUILD)/bin/plugnet $(foreach d,$(DAEMONS),$(BUILD)/bin/plugnet-$(d)) $(DESTDIR)$(PREFIX)/bin/
	$(if $(AGENT_BIN),install -m 0755 $(AGENT_BIN) $(DESTDIR)$(PREFIX)/lib/plugnet/)
	install -d $(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/share/bash-completion/completions
	install -m 0644 $(MAN) $(DESTDIR)$(PREFIX)/share/man/man1/plugnet.1
	install -m 0644 cli/plugnet.bash-completion $(DESTDIR)$(PREFIX)/share/bash-completion/completions/plugnet
	install -m 0644 README.md $(wildcard docs/*.md) $(DESTDIR)$(PREFIX)/share/doc/plugnet/
	for u in $(UNITS); do \
	    sed 's|@PREFIX@|$(PREFIX)|g' $$u > $(DESTDIR)$(UNITDIR)/$$(basename $$u).tmp && \
	    chmod 0644 $(DESTDIR)$(UNITDIR)/$$(basename $$u).tmp && \
	    mv $(DESTDIR)$(UNITDIR)/$$(basename $$u).tmp $(DESTDIR)$(UNITDIR)/$$(basename $$u) || exit 1; done
	if [ -d images ]; then rm -rf $(DESTDIR)$(PREFIX)/share/plugnet/images && \
	    cp -r images $(DESTDIR)$(PREFIX)/share/plugnet/; fi

clean:
	rm -rf build

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
