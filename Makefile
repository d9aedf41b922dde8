# nabla: two commands on a fresh Debian machine.
#   make run    installs what is missing, builds, runs the hello guest
#   make test   the whole test suite
SWIFT       ?= swift
BUILD       := $(CURDIR)/.build
TENDER      := $(BUILD)/release/nabla-run
TEST_RUNNER := $(BUILD)/release/nabla-test
GUESTS      := $(BUILD)/guests
# A fully static tender starts fastest (docs/performance.md).
RELEASE_FLAGS := -c release --product nabla-run -Xswiftc -static-executable

.PHONY: all deps tender test-runner guests run test bench clean

all: tender test-runner guests

deps:
	@tools/install-deps

tender: deps
	$(SWIFT) build $(RELEASE_FLAGS)

# nabla-test, the test-guest runner, static like the tender.
test-runner: deps
	$(SWIFT) build -c release --product nabla-test -Xswiftc -static-executable

guests: deps
	@$(MAKE) --no-print-directory -C guests OUT=$(GUESTS)

run: tender guests
	$(TENDER) $(GUESTS)/hello.nabla

# The suite runs against the shipped (release, static) tender and the
# bundled guests; NABLA_RUN and NABLA_GUESTS tell it where they are.
# The loader's fuzzer runs first (30 s), so the suite's summary comes last.
test: tender test-runner guests
	@$(MAKE) --no-print-directory fuzz-smoke
	NABLA_RUN=$(TENDER) NABLA_TEST_RUNNER=$(TEST_RUNNER) NABLA_GUESTS=$(GUESTS) $(SWIFT) test

bench: tender test-runner guests
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
