# nabla: two commands on a fresh Debian machine.
#   make run    installs what is missing, builds, runs the hello guest
#   make test   the whole test suite
SWIFT       ?= swift
BUILD       := $(CURDIR)/.build
TENDER      := $(BUILD)/release/nabla-run
GUESTS      := $(BUILD)/guests
# A fully static tender starts fastest (docs/performance.md). It is linked
# position-independent (static-pie, with lld: gold cannot), so the kernel
# loads it, and its brk heap, far above guest memory: Solo5 guests live at
# 0x10000 and up, nabla guests at 0x60000000 (docs/architecture.md, "The
# tender binary"). glibc's static-pie start-up refuses an rpath, hence
# --disable-local-rpath; its relocations are packed (DT_RELR, glibc 2.36).
RELEASE_FLAGS := -c release --product nabla-run --disable-local-rpath -Xswiftc -static-executable \
                 -Xswiftc -Xclang-linker -Xswiftc -fuse-ld=lld -Xswiftc -Xclang-linker -Xswiftc -static-pie \
                 -Xlinker -z -Xlinker pack-relative-relocs

.PHONY: all deps tender guests run test bench clean

all: tender guests

deps:
	@tools/install-deps

tender: deps
	$(SWIFT) build $(RELEASE_FLAGS)

guests: deps
	@$(MAKE) --no-print-directory -C guests OUT=$(GUESTS)

run: tender guests
	$(TENDER) $(GUESTS)/hello.nabla

# The suite runs against the shipped (release, static) tender and the
# bundled guests; NABLA_RUN and NABLA_GUESTS tell it where they are.
# The loader's fuzzer runs first (30 s), so the suite's summary comes last.
test: tender guests
	@$(MAKE) --no-print-directory fuzz-smoke
	NABLA_RUN=$(TENDER) NABLA_GUESTS=$(GUESTS) $(SWIFT) test

bench: tender guests
	@tools/install-deps hyperfine
	bench/run.sh

clean:
	rm -rf $(BUILD) $(CURDIR)/.build-fuzz

# Fuzzing the image validator, GuestLayout and ImageInspection with
# libFuzzer and AddressSanitizer (fuzz/README.md). Each fails on a crash,
# trap, sanitizer report or hang; the input lands in fuzz/crashes/.
FUZZ_SECONDS ?= 600

.PHONY: fuzz fuzz-smoke

fuzz: guests
	SWIFT=$(SWIFT) NABLA_GUESTS=$(GUESTS) fuzz/run.sh $(FUZZ_SECONDS)

fuzz-smoke: guests
	SWIFT=$(SWIFT) NABLA_GUESTS=$(GUESTS) fuzz/run.sh 30
