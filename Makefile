# nabla: two commands on a fresh Debian machine.
#   make run    installs what is missing, builds, runs the hello guest
#   make test   the whole test suite
SWIFT       ?= swift
BUILD       := $(CURDIR)/.build
TENDER      := $(BUILD)/release/nabla-run
RUNTIME     := $(BUILD)/release/nabla-runc
TEST_RUNNER := $(BUILD)/release/nabla-test
GUESTS      := $(BUILD)/guests
# A fully static tender starts fastest (docs/performance.md). It is linked
# position-independent (static-pie, with lld: gold cannot), so the kernel
# loads it, and its brk heap, far above guest memory: Solo5 guests live at
# 0x10000 and up, nabla guests at 0x60000000 (docs/architecture.md, "The
# tender binary"). glibc's static-pie start-up refuses an rpath, hence
# --disable-local-rpath; its relocations are packed (DT_RELR, glibc 2.36).
# nabla-runc and nabla-test are linked the same way, so that the three
# builds share their compiled modules (different flags would rebuild them).
STATIC_FLAGS  := --disable-local-rpath -Xswiftc -static-executable \
                 -Xswiftc -Xclang-linker -Xswiftc -fuse-ld=lld -Xswiftc -Xclang-linker -Xswiftc -static-pie \
                 -Xlinker -z -Xlinker pack-relative-relocs

# nabla-run itself is built here, not by SwiftPM: in Embedded Swift, which
# links no Swift runtime, against musl rather than glibc, and with
# libseccomp built from Debian's source against musl, so a guest starts and
# stays with less than a C tender on glibc would hold (docs/performance.md,
# "Start-up"; docs/architecture.md, "The tender binary"). The same sources
# as the full library: Sources/Nabla (one module, with Sources/JSONText)
# and Sources/nabla-run/main.swift; tender/embedded gives them the C
# library under the name Glibc.
TOOLCHAIN     ?= $(patsubst %/,%,$(firstword $(wildcard /opt/swift/usr/bin/) \
                                             $(dir $(shell command -v swiftc 2>/dev/null))))
TENDER_OBJ    := $(BUILD)/tender
MUSL_INCLUDE  := /usr/include/x86_64-linux-musl
MUSL_LIB      := /usr/lib/x86_64-linux-musl
GCC_LIB       := $(patsubst %/,%,$(dir $(shell gcc -print-libgcc-file-name 2>/dev/null)))
# The kernel's headers (linux/, asm/) without glibc's: links in here.
KERNEL_INCLUDE := $(TENDER_OBJ)/kernel-include
MUSL_CC       := $(TENDER_OBJ)/musl-cc
SECCOMP_VERSION := 2.5.4-1+deb12u1
SECCOMP_DIR   := $(TENDER_OBJ)/libseccomp-$(SECCOMP_VERSION)
SECCOMP_LIB   := $(SECCOMP_DIR)/install/lib/libseccomp.a
MUSL_FLAGS    := -nostdinc -isystem $(MUSL_INCLUDE) -isystem $(shell $(TOOLCHAIN)/clang -print-resource-dir 2>/dev/null)/include \
                 -isystem $(KERNEL_INCLUDE) -I $(SECCOMP_DIR)/install/include
# Swift finds musl through a sysroot whose usr/include is musl's: with
# -nostdinc and -isystem instead, it warns "libc not found" at every compile.
MUSL_SYSROOT  := $(TENDER_OBJ)/musl-sysroot
TENDER_SWIFT  := $(TOOLCHAIN)/swiftc -enable-experimental-feature Embedded -wmo -O -g -D NABLA_MUSL \
                 -Xfrontend -function-sections -Xfrontend -no-clang-module-breadcrumbs -I tender/embedded \
                 -Xcc -fmodule-map-file=tender/embedded/CNablaTender.modulemap \
                 -I Sources/CSeccomp -I $(TENDER_OBJ) -sdk $(MUSL_SYSROOT) \
                 -Xcc -isystem -Xcc $(KERNEL_INCLUDE) -Xcc -I -Xcc $(SECCOMP_DIR)/install/include
TENDER_CC     := $(MUSL_CC) -O2 -g -fPIE -ffunction-sections -fdata-sections -Wall -Werror \
                 -I tender/include -I tender/embedded
TENDER_C      := tender/shims.c tender/syscall_names.c tender/error_texts.c tender/embedded/runtime.c \
                 tender/hypercall_x86_64.S tender/launch_x86_64.S
TENDER_C_OBJ  := $(patsubst tender/%,$(TENDER_OBJ)/%.o,$(TENDER_C))
TENDER_HDRS   := $(wildcard tender/include/*.h tender/embedded/*.h tender/embedded/*.modulemap)
# The functions a start runs, first in .text (tools/order-tender.sh makes
# the list): fewer page faults and less RSS (docs/performance.md).
TENDER_ORDER  := tender/embedded/symbol-order.txt
NABLA_SOURCES := $(shell find Sources/Nabla -name '*.swift' | LC_ALL=C sort)
UNICODE_LIB   := $(TOOLCHAIN)/../lib/swift/embedded/x86_64-unknown-linux-gnu/libswiftUnicodeDataTables.a

.PHONY: all deps tender runtime test-runner guests run test bench clean

all: tender runtime test-runner guests

# SwiftPM's build folder and the guests' Swift module cache name the
# checkout's path and fail in a copy or a moved checkout ("was compiled with
# module cache path ..."); the rest of .build does not. .build/.checkout
# records where .build was made.
deps:
	@tools/install-deps --build
	@mkdir -p $(BUILD)
	@if [ -f $(BUILD)/.checkout ] && [ "$$(cat $(BUILD)/.checkout)" != "$(CURDIR)" ]; then \
	    echo "nabla: .build was made in $$(cat $(BUILD)/.checkout), not here: removing SwiftPM's part of it and the guests' module cache (the rest is kept)" >&2; \
	    rm -rf $(BUILD)/x86_64-unknown-linux-gnu $(BUILD)/debug $(BUILD)/release $(BUILD)/*.yaml $(BUILD)/build.db \
	           $(BUILD)/plugins $(BUILD)/guests/obj/module-cache $(CURDIR)/.build-fuzz; \
	fi
	@echo "$(CURDIR)" > $(BUILD)/.checkout

# nabla-run and, beside it, nabla-run-cli (its full command line).
tender: deps
	$(SWIFT) build -c release --product nabla-run-cli $(STATIC_FLAGS)
	@$(MAKE) --no-print-directory $(TENDER)

$(KERNEL_INCLUDE):
	@mkdir -p $@
	ln -sfn /usr/include/linux $@/linux
	ln -sfn /usr/include/asm-generic $@/asm-generic
	ln -sfn /usr/include/x86_64-linux-gnu/asm $@/asm

$(MUSL_SYSROOT):
	@mkdir -p $@/usr
	ln -sfn $(MUSL_INCLUDE) $@/usr/include

# clang with musl's and the kernel's headers, not glibc's.
$(MUSL_CC): | $(KERNEL_INCLUDE)
	printf '#!/bin/sh\nexec %s %s "$$@"\n' '$(TOOLCHAIN)/clang' '$(MUSL_FLAGS)' > $@
	chmod +x $@

$(SECCOMP_LIB): tender/embedded/build-libseccomp.sh tools/fetch-debian-source.sh | $(MUSL_CC)
	sh tender/embedded/build-libseccomp.sh $(SECCOMP_DIR) $(SECCOMP_VERSION) $(MUSL_CC)

$(TENDER_OBJ)/JSONText.o: $(wildcard Sources/JSONText/*.swift) | $(KERNEL_INCLUDE) $(MUSL_SYSROOT)
	@mkdir -p $(@D)
	$(TENDER_SWIFT) -parse-as-library -module-name JSONText -emit-module \
	    -emit-module-path $(TENDER_OBJ)/JSONText.swiftmodule -c $^ -o $@

# Nabla imports CSeccomp: libseccomp's headers come with its build.
$(TENDER_OBJ)/Nabla.o: $(NABLA_SOURCES) $(TENDER_HDRS) $(TENDER_OBJ)/JSONText.o $(SECCOMP_LIB)
	$(TENDER_SWIFT) -parse-as-library -module-name Nabla -emit-module \
	    -emit-module-path $(TENDER_OBJ)/Nabla.swiftmodule -c $(NABLA_SOURCES) -o $@

# main.swift's top-level code is nabla_swift_main, called by the C main in
# tender/embedded/runtime.c.
$(TENDER_OBJ)/main.o: Sources/nabla-run/main.swift $(TENDER_OBJ)/Nabla.o
	$(TENDER_SWIFT) -module-name nabla_run -Xfrontend -entry-point-function-name -Xfrontend nabla_swift_main \
	    -c $< -o $@

$(TENDER_OBJ)/%.o: tender/% $(TENDER_HDRS) | $(MUSL_CC)
	@mkdir -p $(@D)
	$(TENDER_CC) -c $< -o $@

# Static PIE, like the other binaries, with musl's start files and libc.a
# (musl 1.2.3 cannot apply packed DT_RELR relocations: none are asked for).
$(TENDER): $(TENDER_OBJ)/main.o $(TENDER_OBJ)/Nabla.o $(TENDER_OBJ)/JSONText.o $(TENDER_C_OBJ) $(TENDER_ORDER) $(SECCOMP_LIB)
	@mkdir -p $(@D)
	$(TOOLCHAIN)/clang -static-pie -fuse-ld=lld -nostdlib -Wl,--gc-sections \
	    -Wl,--symbol-ordering-file=$(TENDER_ORDER) -Wl,--no-warn-symbol-ordering \
	    -o $@ $(MUSL_LIB)/rcrt1.o $(MUSL_LIB)/crti.o $(GCC_LIB)/crtbeginS.o $(filter %.o,$^) \
	    $(SECCOMP_LIB) $(UNICODE_LIB) $(MUSL_LIB)/libc.a $(GCC_LIB)/libgcc.a $(GCC_LIB)/crtendS.o $(MUSL_LIB)/crtn.o
	@# lld joins the objects' DWARF 5 name indexes into one that gdb refuses
	@# (with a warning at every --gdb); without it, gdb reads the DWARF itself.
	objcopy --remove-section=.debug_names $@

# The OCI runtime (docs/oci.md), static like the tender and beside it:
# it runs the nabla-run in its own directory.
runtime: deps
	$(SWIFT) build -c release --product nabla-runc $(STATIC_FLAGS)

# nabla-test, the test-guest runner, static like the tender.
test-runner: deps
	$(SWIFT) build -c release --product nabla-test $(STATIC_FLAGS)

guests: deps
	@$(MAKE) --no-print-directory -C guests OUT=$(GUESTS)

run: tender guests
	$(TENDER) $(GUESTS)/hello.nabla

# The suite runs against the shipped (release, static) tender, runtime, test
# runner and the bundled guests; NABLA_RUN, NABLA_RUNC, NABLA_TEST_RUNNER and
# NABLA_GUESTS tell it where they are. The loader's fuzzer runs first (30 s),
# so the suite's summary comes last.
test: tender runtime test-runner guests
	@tools/install-deps --test
	@$(MAKE) --no-print-directory fuzz-smoke
	NABLA_RUN=$(TENDER) NABLA_RUNC=$(RUNTIME) NABLA_TEST_RUNNER=$(TEST_RUNNER) NABLA_GUESTS=$(GUESTS) $(SWIFT) test
	@echo "== the network suites again, without offloads (--no-net-offload)"
	NABLA_TEST_NO_NET_OFFLOAD=1 NABLA_RUN=$(TENDER) NABLA_RUNC=$(RUNTIME) NABLA_TEST_RUNNER=$(TEST_RUNNER) NABLA_GUESTS=$(GUESTS) \
		$(SWIFT) test --filter 'NetTests|HTTPTests|IperfTests|NetAttachTests|OffloadTests'

bench: tender test-runner guests
	@tools/install-deps hyperfine
	bench/run.sh

clean:
	rm -rf $(BUILD) $(CURDIR)/.build-fuzz

# ---- Installing the SDK (docs/guests.md) -------------------------------------
#
#   make install PREFIX=DIR     (default /usr/local; DESTDIR for staging)
#   make uninstall PREFIX=DIR   removes exactly what install put there
#
# PREFIX/bin          nabla-run, nabla-run-cli, nabla-test, nabla-cc, nabla-swiftc
# PREFIX/include/nabla  the ABI and library OS headers, the NablaLibOS module map;
#                     sys/ the library OS's (random.h, utsname.h);
#                     libc/ the C library's (newlib's) headers; net/ the network
#                     stack's (the socket API's and lwIP's)
# PREFIX/lib/nabla    libnabla.a, start.o, nabla.ld, libnablanet.a (lwIP and the
#                     socket API), libNablaGuest.a; swift/ its
#                     module; libswiftUnicodeDataTables.a from the Swift toolchain;
#                     libc.a, libm.a (newlib)
# PREFIX/share/nabla  toolset.json for SwiftPM, toolchain.cmake for CMake
# Nothing installed refers to the source tree: the tools find the rest
# relative to themselves.
PREFIX ?= /usr/local
DEST   := $(DESTDIR)$(PREFIX)

SDK_BIN      := nabla-run nabla-run-cli nabla-test nabla-cc nabla-swiftc
SDK_HEADERS  := $(notdir $(filter-out %/nabla_check.h %/nabla_attack.h,$(wildcard guests/libos/include/*.h))) module.modulemap nabla_abi.h
SDK_LIBS     := libnabla.a start.o nabla.ld libnablanet.a libNablaGuest.a libNablaNetwork.a libswiftUnicodeDataTables.a \
                libc.a libm.a swift/NablaGuest.swiftmodule swift/NablaGuest.swiftdoc \
                swift/NablaNetwork.swiftmodule swift/NablaNetwork.swiftdoc
SDK_SHARE    := toolset.json toolchain.cmake

.PHONY: install install-files uninstall

install: tender test-runner guests
	@$(MAKE) --no-print-directory install-files

# The copying alone, from what is built (the tests use it: they cannot run
# swift build inside swift test).
install-files:
	install -d $(DEST)/bin $(DEST)/include/nabla $(DEST)/lib/nabla/swift $(DEST)/share/nabla
	install -m 755 $(TENDER) $(TENDER)-cli $(TEST_RUNNER) sdk/nabla-cc sdk/nabla-swiftc $(DEST)/bin/
	install -m 644 $(filter-out %/nabla_check.h %/nabla_attack.h,$(wildcard guests/libos/include/*.h)) \
	    guests/libos/include/module.modulemap tender/include/nabla_abi.h $(DEST)/include/nabla/
	install -m 644 $(GUESTS)/obj/libnabla.a $(GUESTS)/obj/libos/start.o guests/nabla.ld \
	    $(GUESTS)/obj/libNablaGuest.a $(GUESTS)/obj/libNablaNetwork.a $(GUESTS)/obj/libswiftUnicodeDataTables.a $(DEST)/lib/nabla/
	rm -rf $(DEST)/include/nabla/libc $(DEST)/include/nabla/net $(DEST)/include/nabla/sys
	cp -R $(GUESTS)/libc/include $(DEST)/include/nabla/libc
	cp -R guests/libos/include/sys $(DEST)/include/nabla/sys
	cp -R guests/net/include $(DEST)/include/nabla/net
	cp -R $(GUESTS)/lwip-*/src/src/include/lwip $(GUESTS)/lwip-*/src/src/include/netif $(DEST)/include/nabla/net/
	install -m 644 $(GUESTS)/obj/libnablanet.a $(DEST)/lib/nabla/
	install -m 644 $(GUESTS)/libc/lib/libc.a $(GUESTS)/libc/lib/libm.a $(DEST)/lib/nabla/
	install -m 644 $(GUESTS)/obj/swift/NablaGuest.swiftmodule $(GUESTS)/obj/swift/NablaGuest.swiftdoc \
	    $(GUESTS)/obj/swift/NablaNetwork.swiftmodule $(GUESTS)/obj/swift/NablaNetwork.swiftdoc $(DEST)/lib/nabla/swift/
	sed 's|@PREFIX@|$(PREFIX)|g' sdk/toolset.json.in > $(DEST)/share/nabla/toolset.json
	install -m 644 sdk/toolchain.cmake $(DEST)/share/nabla/
	@# Debug info names the build's source paths: the installed copies go without.
	objcopy --strip-debug $(DEST)/bin/nabla-run
	objcopy --strip-debug $(DEST)/bin/nabla-run-cli
	objcopy --strip-debug $(DEST)/bin/nabla-test
	objcopy --strip-debug $(DEST)/lib/nabla/libnabla.a
	objcopy --strip-debug $(DEST)/lib/nabla/start.o
	objcopy --strip-debug $(DEST)/lib/nabla/libnablanet.a

uninstall:
	rm -rf $(DEST)/include/nabla/libc $(DEST)/include/nabla/net $(DEST)/include/nabla/sys
	rm -f $(addprefix $(DEST)/bin/,$(SDK_BIN)) $(addprefix $(DEST)/include/nabla/,$(SDK_HEADERS)) \
	    $(addprefix $(DEST)/lib/nabla/,$(SDK_LIBS)) $(addprefix $(DEST)/share/nabla/,$(SDK_SHARE))
	-rmdir $(DEST)/include/nabla $(DEST)/lib/nabla/swift $(DEST)/lib/nabla $(DEST)/share/nabla 2>/dev/null

# Fuzzing the image validator, GuestLayout and ImageInspection with
# libFuzzer and AddressSanitizer (fuzz/README.md). Each fails on a crash,
# trap, sanitizer report or hang; the input lands in fuzz/crashes/.
FUZZ_SECONDS ?= 600

.PHONY: fuzz fuzz-smoke

fuzz: guests
	SWIFT=$(SWIFT) NABLA_GUESTS=$(GUESTS) fuzz/run.sh $(FUZZ_SECONDS)

fuzz-smoke: guests
	SWIFT=$(SWIFT) NABLA_GUESTS=$(GUESTS) fuzz/run.sh 30
