// Solo5 spt images under nabla-run (docs/solo5.md): nabla's own Solo5-ABI
// test guests (guests/solo5), run with Solo5's command line and checked for
// Solo5's exit statuses, plus what nabla adds (fault and forbidden-syscall
// lines, --policy, --inspect); malformed manifests made by patching a real
// image. The network tests make a namespace `ns5-*` with TAP `ns5tap*`,
// removed afterwards, and need root.

import Foundation
import Testing
import CNablaTender
@testable import Nabla
@testable import nabla_run_cli

/// The path of a Solo5 test guest.
func solo5Guest(_ name: String) throws -> String {
    let path = Paths.guests + "/solo5/" + name + ".spt"
    guard FileManager.default.fileExists(atPath: path) else {
        throw HarnessError("Solo5 test guest \(path) is missing: run 'make guests' (or 'make test')")
    }
    return path
}

/// The offset of the manifest (`struct solo5_mft`) in a Solo5 image file.
func manifestOffset(in bytes: [UInt8]) throws -> Int {
    let name = Array("Solo5\0\0\0".utf8)
    for at in stride(from: 0, to: bytes.count - 32, by: 4)
    where bytes[at + 8] == 0x4d && bytes[at + 9] == 0x46 && bytes[at + 10] == 0x54 && bytes[at + 11] == 0x31
        && Array(bytes[(at + 12)..<(at + 20)]) == name {
        return at + Int(SOLO5_MFT_NOTE_OFFSET)
    }
    throw HarnessError("no MFT1 note found")
}

@Suite("Solo5 spt images")
struct Solo5Tests {
    @Test("hello with arguments: console, command line, clocks, yield")
    func hello() throws {
        let outcome = try nablaRun([try solo5Guest("hello"), "one", "two words"])
        #expect(outcome.status == 0, "\(outcome)")
        #expect(outcome.stdout == "Hello from a Solo5 spt guest!\ncmdline: one two words\nclocks ok\nyield ok\n", "\(outcome)")
    }

    @Test("Solo5's spelling: --mem=MiB and --")
    func solo5CommandLine() throws {
        let outcome = try nablaRun(["--mem=32", "--", try solo5Guest("hello"), "x"])
        #expect(outcome.status == 0 && outcome.stdout.contains("cmdline: x\n"), "\(outcome)")
        let tooSmall = try nablaRun(["--mem=1", try solo5Guest("hello")])
        #expect(tooSmall.status == 1 && tooSmall.stderr.contains("too small"), "\(tooSmall)")
        let env = try nablaRun(["--env", "A=1", try solo5Guest("hello")])
        #expect(env.status == 1 && env.stderr == "nabla-run: --env: a Solo5 image has no environment (Solo5's ABI passes only a command line)\n", "\(env)")
    }

    @Test("solo5-spt's spellings give the configuration of nabla's, in both parsers", arguments: [
        ["--mem=512", "--block:storage=d.img", "--block-sector-size:storage=4096", "--net:service=tap0",
         "--net-mac:service=02:00:00:00:00:05", "--", "u.spt", "--ipv4=10.0.0.2/24"],
        ["--net:a=@5", "--net:b=tap1", "u.spt"],
    ])
    func spellings(_ arguments: [String]) throws {
        let fast = try #require(RunOption.parse(arguments[...]))
        let parsed = try NablaRun.parse(Solo5Option.translated(arguments)).configuration
        #expect(fast == parsed)
        #expect(RunOption.parse(fast.commandLine[...]) == fast, "\(fast.commandLine)")
        if arguments.count > 3 {
            #expect(fast.memorySize == 512 << 20 && fast.blockSizes == [Solo5BlockSize(name: "storage", size: 4096)])
            #expect(fast.disks == [DiskConfiguration(DeviceSpec(name: "storage", path: "d.img"))])
            #expect(fast.guestArguments == ["--ipv4=10.0.0.2/24"] && fast.imagePath == "u.spt")
        }
        for bad in ["--block:=d.img", "--block:a-b=d.img", "--block-sector-size:storage=1000", "--net-mac:service=zz", "--x-exec-heap"] {
            #expect(RunOption.parse([bad, "u.spt"][...]) == nil)
            #expect(Solo5Option.problem(in: [bad, "u.spt"][...]) != nil, "\(bad)")
        }
    }

    @Test("Solo5's layout: default 512 MiB from address 0; too small, too large and UInt64.max are refused")
    func layout() throws {
        let image = try ELFImage(bytes: [UInt8](try Data(contentsOf: URL(fileURLWithPath: try solo5Guest("hello")))))
        let layout = try Solo5SPT.Layout(image: image, memorySize: nil)
        #expect(layout.memory == GuestRange(0x10000, 512 << 20) && layout.imageEnd == image.highestAddress)
        #expect(try Solo5SPT.Layout(image: image, memorySize: (32 << 20) + 1).memory.end == (32 << 20) + 4096)
        let needed = image.highestAddress + UInt64(NABLA_STACK_SIZE)
        #expect(throws: TenderError.memoryTooSmall(given: needed - 4096, needed: needed)) { try Solo5SPT.Layout(image: image, memorySize: needed - 4096) }
        #expect(throws: TenderError.memoryTooLarge(given: .max, limit: GuestLayout.memoryLimit)) { try Solo5SPT.Layout(image: image, memorySize: .max) }
    }

    @Test("globals and bss")
    func globals() throws {
        let outcome = try nablaRun([try solo5Guest("globals")])
        #expect(outcome.status == 0 && outcome.stdout == "globals ok\n", "\(outcome)")
    }

    @Test("exit statuses: solo5_exit's, 255 on abort, 139 on a fault with its line")
    func statuses() throws {
        #expect(try nablaRun([try solo5Guest("fault"), "7"]).status == 7)
        #expect(try nablaRun([try solo5Guest("fault"), "abort"]).status == 255)
        let fault = try nablaRun([try solo5Guest("fault")])
        #expect(fault.status == 139, "\(fault)")
        #expect(fault.stderr.contains("nabla-run: guest fault: SIGSEGV (invalid memory access) at pc 0x1"), "\(fault)")
        #expect(fault.stderr.contains("(image offset 0x") && fault.stderr.contains("address 0x1000"), "\(fault)")
    }

    @Test("a forbidden system call is named and gives 159, also after the guest moved FS")
    func forbidden() throws {
        let outcome = try nablaRun([try solo5Guest("forbidden")])
        #expect(outcome.status == 159, "\(outcome)")
        #expect(outcome.stderr == "nabla-run: guest made a forbidden system call: getpid (39)\n", "\(outcome)")
        let stderr = try nablaRun([try solo5Guest("forbidden"), "write2"])
        #expect(stderr.status == 159 && stderr.stderr.contains("forbidden system call: write (1)"), "\(stderr)")
    }

    @Test("block round trip", arguments: [512, 4096])
    func block(_ blockSize: Int) throws {
        try withTemporaryDirectory { directory in
            let disk = directory + "/disk.img"
            try Data(count: 256 << 10).write(to: URL(fileURLWithPath: disk))
            let outcome = try nablaRun(["--block:storage=" + disk, "--block-sector-size:storage=\(blockSize)", try solo5Guest("blk")])
            #expect(outcome.status == 0, "\(outcome)")
            #expect(outcome.stdout == "block ok: block size \(blockSize), capacity \(256 << 10)\n", "\(outcome)")
            // nabla's spelling attaches the same way.
            #expect(try nablaRun(["--disk", "storage=" + disk, try solo5Guest("blk")]).status == 0)
            // A read past the end is stopped by the policy itself.
            let beyond = try nablaRun(["--block:storage=" + disk, try solo5Guest("blk"), "beyond"])
            #expect(beyond.status == 159 && beyond.stderr.contains("pread64 (17)"), "\(beyond)")
        }
    }

    @Test("devices must match the manifest both ways; block sizes are checked")
    func manifestBinding() throws {
        try withTemporaryDirectory { directory in
            let disk = directory + "/disk.img"
            try Data(count: 6144).write(to: URL(fileURLWithPath: disk))
            let unattached = try nablaRun([try solo5Guest("blk")])
            #expect(unattached.status == 1 && unattached.stderr.contains("declared in the image's manifest but not attached: 'storage'"), "\(unattached)")
            let undeclared = try nablaRun(["--block:other=" + disk, try solo5Guest("blk")])
            #expect(undeclared.status == 1 && undeclared.stderr.contains("declares no block device 'other'"), "\(undeclared)")
            let misaligned = try nablaRun(["--block:storage=" + disk, "--block-sector-size:storage=4096", try solo5Guest("blk")])
            #expect(misaligned.status == 1 && misaligned.stderr.contains("block aligned (4096 bytes)"), "\(misaligned)")
            let odd = try nablaRun(["--block:storage=" + disk, "--block-sector-size:storage=521", try solo5Guest("blk")])
            #expect(odd.status == 1 && odd.stderr.contains("Block size must be a multiple of 2"), "\(odd)")
        }
    }

    @Test("--policy prints Solo5's policy; --inspect shows the manifest")
    func policyAndInspect() throws {
        try withTemporaryDirectory { directory in
            let disk = directory + "/disk.img"
            try Data(count: 8192).write(to: URL(fileURLWithPath: disk))
            let policy = try nablaRun(["--policy", "--block:storage=" + disk, try solo5Guest("blk")])
            #expect(policy.status == 0, "\(policy)")
            let lines = policy.stdout.split(separator: "\n").map(String.init)
            #expect(lines.first == "seccomp policy for the guest phase (Solo5 spt image): 10 rules over 8 of the 9 guest system calls", "\(policy)")
            #expect(lines.contains { $0.hasPrefix("allow arch_prctl (158) if code == 4098") })
            #expect(lines.contains { $0.hasPrefix("allow pread64 (17) if fd == 3") && $0.contains("count == 512 [block size] && pos <= 7680") })
            #expect(!lines.contains { $0.contains("ppoll") })
            let inspect = try nablaRun(["--inspect", try solo5Guest("blk")])
            #expect(inspect.status == 0 && inspect.stdout.contains("ABI:            Solo5 spt, ABI version 2"), "\(inspect)")
            #expect(inspect.stdout.contains("  [1] block storage  (--block:storage=PATH)"), "\(inspect)")
        }
    }

    @Test("the nabla ABI keeps its seven system calls")
    func nablaPolicyUnchanged() throws {
        let policy = try nablaRun(["--policy", try Paths.guest("hello")])
        #expect(policy.stdout.hasPrefix("seccomp policy for the guest phase: 6 rules over 5 of the 7 guest system calls\n"), "\(policy)")
        #expect(Syscall.guestSet.count == 7 && Syscall.solo5Set.count == 9)
    }

    /// One malformed manifest, made by changing bytes of a real image.
    struct Malformation: CustomTestStringConvertible, Sendable {
        var name: String
        var change: @Sendable (inout [UInt8], Int) -> Void
        var message: String
        var testDescription: String { name }
    }

    static let malformations: [Malformation] = [
        .init(name: "too many entries", change: { $0[$1 + 4] = 65 }, message: "declares 65 entries; Solo5 allows at most 64"),
        .init(name: "bad version", change: { $0[$1] = 2 }, message: "manifest version 2 is not 1"),
        .init(name: "entry count does not match the size", change: { $0[$1 + 4] = 3 }, message: "but 3 entries need exactly"),
        .init(name: "entry 0 not reserved", change: { $0[$1 + 8 + 68] = 1; $0[$1 + 8 + 68 + 3] = 0 }, message: "manifest entry 0 is not the reserved entry"),
        .init(name: "name not NUL-terminated", change: { for i in 0..<68 { $0[$1 + 8 + 104 + i] = 0x41 } },
              message: "manifest entry 1: the name is not NUL-terminated"),
        .init(name: "attached in the image", change: { $0[$1 + 8 + 104 + 96] = 1 }, message: "manifest entry 1 is marked attached"),
        .init(name: "unknown device type", change: { $0[$1 + 8 + 104 + 68] = 9 }, message: "manifest entry 1: unknown device type 9"),
        .init(name: "wrong target (hvt)", change: { bytes, _ in
            let abi = try! abiInfoOffset(in: bytes)
            bytes[abi] = 1
        }, message: "Solo5 unikernel for hvt"),
    ]

    @Test("malformed manifests and notes are refused with one line and status 65, as any invalid image", arguments: malformations)
    func malformed(_ malformation: Malformation) throws {
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: try solo5Guest("blk"))))
        malformation.change(&bytes, try manifestOffset(in: bytes))
        try withTemporaryDirectory { directory in
            let path = try writeImage(bytes, in: directory, name: "bad.spt")
            let outcome = try nablaRun(["--block:storage=/dev/null", path])
            #expect(outcome.status == 65, "\(outcome)")
            #expect(outcome.stderr.contains(malformation.message), "\(outcome)")
            #expect(outcome.stderr.split(separator: "\n").count == 1, "\(outcome)")
        }
    }

    @Test("net: answers pings on a TAP in a namespace; two NICs; a TAP given as @FD",
          .enabled(if: geteuid() == 0, "needs root for network namespaces and TAP interfaces"))
    func net() throws {
        let script = """
            set -u
            ns=ns5-$(od -An -N4 -tx4 /dev/urandom | tr -d ' ')
            trap 'ip netns del $ns 2>/dev/null' EXIT
            ip netns add $ns && ip -n $ns link set lo up || exit 90
            for i in 0 1; do
              ip -n $ns tuntap add dev ns5tap$i mode tap && ip -n $ns addr add 10.0.$i.1/24 dev ns5tap$i \
                && ip -n $ns link set ns5tap$i up || exit 91
            done
            ip netns exec $ns "$1" --net:service=ns5tap0 "$2" > /tmp/$ns.1 2>&1 & g=$!
            sleep 0.3; ip netns exec $ns ping -c 3 -i 0.2 -W 2 10.0.0.2 >/dev/null || { kill $g; cat /tmp/$ns.1; exit 92; }
            wait $g; s=$?; grep -q 'net ok' /tmp/$ns.1 || s=93; cat /tmp/$ns.1; rm -f /tmp/$ns.1; [ $s = 0 ] || exit $s
            ip netns exec $ns "$1" --net:service0=ns5tap0 --net:service1=ns5tap1 "$3" > /tmp/$ns.2 2>&1 & g=$!
            sleep 0.3; ip netns exec $ns ping -c 2 -i 0.2 -W 2 10.0.0.2 >/dev/null && ip netns exec $ns ping -c 2 -i 0.2 -W 2 10.0.1.2 >/dev/null \
              || { kill $g; cat /tmp/$ns.2; exit 94; }
            wait $g; s=$?; grep -q 'net2 ok' /tmp/$ns.2 || s=95; cat /tmp/$ns.2; rm -f /tmp/$ns.2; [ $s = 0 ] || exit $s
            # @FD: a TAP descriptor opened by the parent, as urunc passes one.
            ip netns exec $ns "$4" ns5tap0 "$1" --net:service=@FD "$2" > /tmp/$ns.3 2>&1 & g=$!
            sleep 0.3; ip netns exec $ns ping -c 3 -i 0.2 -W 2 10.0.0.2 >/dev/null || { kill $g; cat /tmp/$ns.3; exit 97; }
            wait $g; s=$?; grep -q 'net ok' /tmp/$ns.3 || s=98; cat /tmp/$ns.3; rm -f /tmp/$ns.3; [ $s = 0 ] || exit $s
            # A descriptor that is not a TAP is refused.
            ip netns exec $ns "$1" --net:service=@7 "$2" 7</dev/null; [ $? = 1 ] || exit 96
            exit 0
            """
        try withTemporaryDirectory { directory in
            let tapfd = try compileTapFD(in: directory)
            let outcome = try run("/bin/sh", ["-c", script, "sh", Paths.tender, try solo5Guest("net"), try solo5Guest("net2"), tapfd],
                                  timeout: 60)
            #expect(outcome.status == 0, "\(outcome)")
        }
    }

    /// A helper that opens TAP interface argv[1] (TUNSETIFF) and runs the
    /// rest of its arguments with `@FD` replaced by `@<its descriptor>`.
    private func compileTapFD(in directory: String) throws -> String {
        let source = """
            #include <fcntl.h>
            #include <linux/if_tun.h>
            #include <net/if.h>
            #include <stdio.h>
            #include <string.h>
            #include <sys/ioctl.h>
            #include <unistd.h>
            int main(int argc, char **argv) {
                int fd = open("/dev/net/tun", O_RDWR);
                struct ifreq ifr;
                memset(&ifr, 0, sizeof ifr);
                ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
                strncpy(ifr.ifr_name, argv[1], IFNAMSIZ - 1);
                if (argc < 3 || fd < 0 || ioctl(fd, TUNSETIFF, &ifr) != 0) { perror("tapfd"); return 99; }
                static char spelled[32];
                for (int i = 2; i < argc; i++) {
                    char *at = strstr(argv[i], "@FD");
                    if (at) { snprintf(spelled, sizeof spelled, "%.*s@%d", (int)(at - argv[i]), argv[i], fd); argv[i] = spelled; }
                }
                execv(argv[2], argv + 2);
                perror("execv");
                return 99;
            }
            """
        try source.write(toFile: directory + "/tapfd.c", atomically: true, encoding: .utf8)
        let outcome = try run("/usr/bin/cc", ["-o", directory + "/tapfd", directory + "/tapfd.c"])
        guard outcome.status == 0 else { throw HarnessError("cannot build the TAP helper: \(outcome)") }
        return directory + "/tapfd"
    }

    @Test("--timeout ends a Solo5 guest waiting in yield (124); --audit checks it against Solo5's policy")
    func timeoutAndAudit() throws {
        let slept = try nablaRun(["--timeout", "0.3", try solo5Guest("fault"), "sleep"])
        #expect(slept.status == 124 && slept.stderr == "nabla-run: guest timed out after 0.300 s (--timeout)\n", "\(slept)")
        let audited = try nablaRun(["--audit", try solo5Guest("hello")])
        #expect(audited.status == 0, "\(audited)")
        #expect(audited.stderr.contains("policy check: every guest-phase call matched an allowed rule"), "\(audited)")
        #expect(audited.stderr.contains("  epoll_pwait          1\n") && audited.stderr.contains("  arch_prctl           1\n"), "\(audited)")
        #expect(audited.stderr.contains("hypercalls: none (a Solo5 spt guest makes its own system calls"), "\(audited)")
        let forbidden = try nablaRun(["--audit", try solo5Guest("forbidden")])
        #expect(forbidden.status == 159 && forbidden.stderr.contains("verdict: the filter trapped getpid (39)"), "\(forbidden)")
    }

    @Test("--gdb: gdb stops at a Solo5 guest's function with its symbols")
    func gdb() throws {
        try withTemporaryDirectory { directory in
            let disk = directory + "/disk.img"
            try Data(count: 8192).write(to: URL(fileURLWithPath: disk))
            let configuration = TenderConfiguration(imagePath: try solo5Guest("blk"), disks: [DiskConfiguration(DeviceSpec(name: "storage", path: disk))],
                                                    blockSizes: [Solo5BlockSize(name: "storage", size: 4096)])
            // The command --gdb runs, made non-interactive.
            var command = Debugger.commandLine(for: configuration, tender: Paths.tender)
            command.insert("-batch", at: 1)
            let argumentsStart = command.firstIndex(of: "--args")!
            command.insert(contentsOf: ["-ex", "break app_main", "-ex", "continue", "-ex", "print/x spt_boot->mem_size",
                                        "-ex", "print spt_boot->timerfd > 2", "-ex", "continue"], at: argumentsStart)
            let outcome = try run("/usr/bin/gdb", Array(command.dropFirst()), timeout: 120)
            #expect(outcome.status == 0, "\(outcome.stderr.suffix(800))")
            #expect(outcome.stdout.contains("Breakpoint 2, app_main"), "\(outcome.stdout)")
            #expect(outcome.stdout.contains("$1 = 0x20000000") && outcome.stdout.contains("$2 = 1"), "\(outcome.stdout)")
            #expect(outcome.stdout.contains("block ok: block size 4096, capacity 8192"), "\(outcome.stdout)")
        }
    }

    @Test("a Solo5 image can have as many devices as its manifest declares, at most 63 (not nabla's 16); more are refused")
    func deviceLimit() throws {
        try withTemporaryDirectory { directory in
            var disks: [String] = []
            for index in 0..<64 {
                let path = directory + "/storage\(index).img"
                try Data(count: 4096).write(to: URL(fileURLWithPath: path))
                disks.append("--block:storage\(index)=" + path)
            }
            let guest = try solo5Guest("maxdevices")
            let most = try nablaRun(Array(disks.prefix(63)) + [guest])
            #expect(most.status == 0 && most.stdout == "maxdevices ok: 63 disks attached\n", "\(most)")
            let over = try nablaRun(disks + [guest])
            #expect(over.status == 1 && over.stdout == "", "\(over)")
            #expect(over.stderr == "nabla-run: 64 devices given; a guest can have at most 63\n", "\(over)")
        }
    }

    @Test("the manifest validator, entry by entry")
    func manifestUnits() throws {
        func manifest(_ entries: [(String, UInt32)], version: UInt32 = 1) -> [UInt8] {
            var bytes = withUnsafeBytes(of: version.littleEndian, Array.init) + withUnsafeBytes(of: UInt32(entries.count).littleEndian, Array.init)
            for (name, type) in entries {
                var entry = [UInt8](repeating: 0, count: 104)
                for (i, byte) in name.utf8.enumerated() { entry[i] = byte }
                withUnsafeBytes(of: type.littleEndian) { for (i, byte) in $0.enumerated() { entry[68 + i] = byte } }
                bytes += entry
            }
            return bytes
        }
        let reserved = ("", SOLO5_MFT_RESERVED_FIRST)
        let good = try Solo5Manifest(bytes: manifest([reserved, ("disk", 1), ("service", 2)]))
        #expect(good.devices.map(\.name) == ["disk", "service"] && good.entry(named: "service", type: .net)?.index == 2)
        #expect(throws: Solo5ManifestError.noEntries) { try Solo5Manifest(bytes: manifest([])) }
        #expect(throws: Solo5ManifestError.wrongVersion(2)) { try Solo5Manifest(bytes: manifest([reserved], version: 2)) }
        #expect(throws: Solo5ManifestError.duplicateName("a")) { try Solo5Manifest(bytes: manifest([reserved, ("a", 1), ("a", 1)])) }
        #expect(throws: Solo5ManifestError.emptyName(index: 1)) { try Solo5Manifest(bytes: manifest([reserved, ("", 2)])) }
        #expect(throws: Solo5ManifestError.firstEntryNotReserved) { try Solo5Manifest(bytes: manifest([("a", 1)])) }
        #expect(throws: Solo5ManifestError.truncated(size: 4)) { try Solo5Manifest(bytes: [1, 0, 0, 0]) }
        let sixtyFive = manifest([reserved] + Array(repeating: ("x", 1), count: 64))
        #expect(throws: Solo5ManifestError.tooManyEntries(65)) { try Solo5Manifest(bytes: sixtyFive) }
        let sixtyFour = manifest([reserved] + (1..<64).map { ("d\($0)", UInt32(1)) })
        #expect(try Solo5Manifest(bytes: sixtyFour).devices.count == 63)
    }
}

/// The offset of the ABI note's descriptor (`struct solo5_abi_info`).
func abiInfoOffset(in bytes: [UInt8]) throws -> Int {
    let name = Array("Solo5\0\0\0".utf8)
    for at in stride(from: 0, to: bytes.count - 36, by: 4)
    where bytes[at + 8] == 0x41 && bytes[at + 9] == 0x42 && bytes[at + 10] == 0x49 && bytes[at + 11] == 0x31
        && Array(bytes[(at + 12)..<(at + 20)]) == name {
        return at + 20
    }
    throw HarnessError("no ABI1 note found")
}

/// Solo5's policy, each rule both ways: the attack guest makes one raw
/// system call with the arguments given; an allowed one returns, an altered
/// one is stopped and named (159). The disk is 8 KiB, its blocks 512 bytes.
@Suite("Solo5 policy, rule by rule")
struct Solo5PolicyTests {
    static let allowed: [String] = [
        "1 1 buf 0",                        // write to the console
        "228 1 buf", "228 0 buf",           // clock_gettime MONOTONIC, REALTIME
        "281 epoll buf 1 0 0 8",            // epoll_pwait on the wait set (no wait)
        "286 timer 0 buf 0",                // timerfd_settime on the timerfd (disarm)
        "158 0x1002 buf",                   // arch_prctl(ARCH_SET_FS)
        "17 storage buf 512 0", "17 storage buf 512 7680",   // pread64 of one block, first and last
        "18 storage buf 512 0", "18 storage buf 512 7680",   // pwrite64 of one block
    ]

    static let stopped: [(String, String)] = [
        ("1 2 buf 1", "write (1)"),                          // stderr, not from the tender's buffer
        ("1 storage buf 512", "write (1)"),                  // write on the disk's fd
        ("1 epoll buf 1", "write (1)"),
        ("0 storage buf 512", "read (0)"),                   // read is for NICs only
        ("228 2 buf", "clock_gettime (228)"),                // CLOCK_PROCESS_CPUTIME_ID
        ("281 timer buf 1 0 0 8", "epoll_pwait (281)"),      // another fd
        ("281 epoll buf 8 0x7fffffff ones 8", "epoll_pwait (281)"),  // a wait with every signal blocked
        ("281 epoll buf 1 0 buf 8", "epoll_pwait (281)"),    // any signal mask, even an empty one
        ("286 epoll 0 buf 0", "timerfd_settime (286)"),
        ("286 timer 1 buf buf", "timerfd_settime (286)"),    // an old value (Solo5 asks for none)
        ("158 0x1003 buf", "arch_prctl (158)"),              // ARCH_GET_FS
        ("158 0x1001 buf", "arch_prctl (158)"),              // ARCH_SET_GS
        ("17 storage buf 511 0", "pread64 (17)"),            // not one block
        ("17 storage buf 1024 0", "pread64 (17)"),
        ("17 storage buf 512 cap", "pread64 (17)"),          // past the end
        ("18 storage buf 512 7681", "pwrite64 (18)"),
        ("18 storage buf 512 0x10000000000", "pwrite64 (18)"),  // 1 TiB: the file would grow
        ("271 buf 0 0 0 8", "ppoll (271)"),                  // nabla's ppoll is not Solo5's
        ("232 epoll buf 1 0", "epoll_wait (232)"),
        ("39", "getpid (39)"),
    ]

    @Test("allowed calls pass", arguments: allowed)
    func allows(_ call: String) throws {
        try withDisk { disk in
            let outcome = try nablaRun(["--block:storage=" + disk, try solo5Guest("attack")] + call.split(separator: " ").map(String.init))
            #expect(outcome.status == 0 && outcome.stdout.hasPrefix("returned ") && !outcome.stdout.hasPrefix("returned -"), "\(call): \(outcome)")
        }
    }

    @Test("altered calls are stopped and named", arguments: zip(stopped.map(\.0), stopped.map(\.1)))
    func stops(_ call: String, _ name: String) throws {
        try withDisk { disk in
            let before = try Data(contentsOf: URL(fileURLWithPath: disk))
            let outcome = try nablaRun(["--block:storage=" + disk, try solo5Guest("attack")] + call.split(separator: " ").map(String.init))
            #expect(outcome.status == 159 && outcome.stdout == "", "\(call): \(outcome)")
            #expect(outcome.stderr == "nabla-run: guest made a forbidden system call: \(name)\n", "\(call): \(outcome)")
            #expect(try Data(contentsOf: URL(fileURLWithPath: disk)) == before, "\(call) changed the disk")
        }
    }

    @Test("a wait with every signal blocked is stopped, so --timeout, SIGTERM and SIGINT keep their hold")
    func signalMaskedWait() throws {
        // epoll_pwait applies its mask for the wait: with SIGALRM, SIGTERM
        // and SIGINT blocked for 24 days, only SIGKILL ended the guest.
        try withDisk { disk in
            let started = Date()
            let outcome = try nablaRun(["--timeout", "1", "--block:storage=" + disk, try solo5Guest("attack"),
                                        "281", "epoll", "buf", "8", "0x7fffffff", "ones", "8"], timeout: 10)
            #expect(outcome.status == 159 && outcome.stdout == "", "\(outcome)")
            #expect(outcome.stderr == "nabla-run: guest made a forbidden system call: epoll_pwait (281)\n", "\(outcome)")
            #expect(Date().timeIntervalSince(started) < 5)
        }
    }

    @Test("a NIC's write is pinned to one frame of its MTU: the limit passes, one byte more is stopped",
          .enabled(if: geteuid() == 0, "needs root for a network namespace and TAP interfaces"))
    func nicFrameLimit() throws {
        let tap = try Tap.unaddressed()
        let jumbo = try Tap(subnet: 251, in: tap.namespace, address: false)
        try tap.namespace.ip(["link", "set", jumbo.name, "mtu", "9000"])
        let guest = try solo5Guest("attack-net")
        // MTU + the 14-byte Ethernet header; larger frames once reached the
        // host through the TAP, whatever its MTU.
        for (interface, limit) in [(tap.name, 1514), (jumbo.name, 9014)] {
            let policy = try tap.namespace.run(Paths.tender, ["--policy", "--net:service=" + interface, guest])
            #expect(policy.stdout.contains("&& count <= \(limit) [MTU + header]"), "\(policy)")
            let sent = try tap.namespace.run(Paths.tender, ["--net:service=" + interface, guest, "1", "net", "buf", String(limit)])
            #expect(sent.status == 0 && sent.stdout == "returned \(limit)\n", "\(interface): \(sent)")
            for count in [limit + 1, 9015, 65000] {
                let outcome = try tap.namespace.run(Paths.tender, ["--net:service=" + interface, guest, "1", "net", "buf", String(count)])
                #expect(outcome.status == 159 && outcome.stdout == "", "\(interface), \(count) bytes: \(outcome)")
                #expect(outcome.stderr == "nabla-run: guest made a forbidden system call: write (1)\n", "\(interface), \(count) bytes")
            }
        }
    }

    private func withDisk(_ body: (String) throws -> Void) throws {
        try withTemporaryDirectory { directory in
            let disk = directory + "/disk.img"
            try Data((0..<8192).map { UInt8(truncatingIfNeeded: $0 * 7) }).write(to: URL(fileURLWithPath: disk))
            try body(disk)
        }
    }
}
