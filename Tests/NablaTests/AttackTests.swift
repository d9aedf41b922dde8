// The attack suite: hostile guests (guests/attack-*) against the real tender.
//
// Every system call number outside the seven is stopped and named; each of
// the seven passes with its pinned arguments and is stopped with any pin
// altered (the Firecracker way: both directions); other architectures'
// entry points are stopped; W^X, the guard page and the fault handlers stop
// code that writes text, runs data or faults; --timeout stops a spinning
// guest. Every run happens in a fresh directory holding a canary file, which
// must be unchanged afterwards, with no new file (Support/Canary.swift).
// docs/attack-table.md maps each attack to what stops it and to its test.

import CNablaTender
import Foundation
import Testing
@testable import Nabla

/// The seven system calls the policy can allow (the rest must trap).
private let allowedNumbers: Set<Int> = [0, 1, 17, 18, 228, 231, 271]

/// uretprobe (335) and uprobe (336): kernels that have these system calls
/// (recent ones, and stable kernels the change was backported to) run them
/// without consulting any seccomp filter (kernel/seccomp.c,
/// seccomp_uprobe_exception), because a uprobe trampoline must work in every
/// sandbox. Outside a trampoline the kernel refuses them itself: uretprobe
/// forces SIGILL, uprobe returns -ENXIO. On older kernels they trap like any
/// other number.
private let kernelExemptNumbers: Set<Int> = [335, 336]

private let forbiddenPrefix = "nabla-run: guest made a forbidden system call: "

/// The exact line for a trapped call named `name` with number `number`.
private func forbiddenLine(_ name: String, _ number: Int) -> String {
    "\(forbiddenPrefix)\(name) (\(number))\n"
}

private func hexString(_ value: UInt64) -> String { "0x" + String(value, radix: 16) }

/// The hexadecimal number that follows `marker` in `text`.
private func hexNumber(after marker: String, in text: String) -> UInt64? {
    guard let range = text.range(of: marker) else { return nil }
    let digits = text[range.upperBound...].prefix { $0.isHexDigit }
    return UInt64(digits, radix: 16)
}

/// One call of attack-syscall: its arguments and the line that must stop it.
struct PinCase: Sendable, CustomTestStringConvertible {
    let what: String
    let arguments: [String]
    let name: String
    var number: Int { Int(arguments[0])! }
    var testDescription: String { what }
}

/// Pinned calls with one pin altered; no device is attached.
private let alteredPins: [PinCase] = [
    PinCase(what: "write to fd 0", arguments: ["1", "0", "buf", "len"], name: "write"),
    PinCase(what: "write to fd 2 from the guest's buffer", arguments: ["1", "2", "buf", "len"], name: "write"),
    PinCase(what: "write to fd 3", arguments: ["1", "3", "buf", "len"], name: "write"),
    PinCase(what: "write to fd 1000000", arguments: ["1", "1000000", "buf", "len"], name: "write"),
    PinCase(what: "write to fd 1 with bit 32 set", arguments: ["1", "0x100000001", "buf", "len"], name: "write"),
    PinCase(what: "read on fd 0 into the guest's buffer", arguments: ["0", "0", "buf", "len"], name: "read"),
    PinCase(what: "read on fd 1", arguments: ["0", "1", "buf", "len"], name: "read"),
    PinCase(what: "pread64 on fd 1", arguments: ["17", "1", "buf", "len", "0"], name: "pread64"),
    PinCase(what: "pwrite64 on fd 1", arguments: ["18", "1", "buf", "len", "0"], name: "pwrite64"),
    PinCase(what: "ppoll on the guest's own array", arguments: ["271", "buf", "1", "0", "0"], name: "ppoll"),
    PinCase(what: "ppoll with no array at all", arguments: ["271", "0", "0", "0", "0"], name: "ppoll"),
    PinCase(what: "clock_gettime on clock 3 (thread CPU time)", arguments: ["228", "3", "buf"], name: "clock_gettime"),
    PinCase(what: "clock_gettime on clock 0 with bit 32 set", arguments: ["228", "0x100000000", "buf"], name: "clock_gettime"),
]

/// An allowed call with its allowed arguments: status and stdout.
struct AllowedCase: Sendable, CustomTestStringConvertible {
    let what: String
    let arguments: [String]
    let status: Int32
    let stdout: String
    var testDescription: String { what }
}

private let allowedCalls: [AllowedCase] = [
    AllowedCase(what: "write(1, buf, 7)", arguments: ["1", "1", "buf", "len"], status: 0,
                stdout: "calling 1\nattack\nreturned 7\n"),
    AllowedCase(what: "clock_gettime(CLOCK_REALTIME, buf)", arguments: ["228", "0", "buf"], status: 0,
                stdout: "calling 228\nreturned 0\n"),
    AllowedCase(what: "clock_gettime(CLOCK_MONOTONIC, buf)", arguments: ["228", "1", "buf"], status: 0,
                stdout: "calling 228\nreturned 0\n"),
    AllowedCase(what: "clock_gettime(CLOCK_PROCESS_CPUTIME_ID, buf)", arguments: ["228", "2", "buf"], status: 0,
                stdout: "calling 228\nreturned 0\n"),
    AllowedCase(what: "exit_group(5)", arguments: ["231", "5"], status: 5, stdout: "calling 231\n"),
]

/// A fault and the line that reports it.
struct FaultCase: Sendable, CustomTestStringConvertible {
    let mode: String
    let status: Int32
    let signal: String
    var testDescription: String { mode }
}

private let faults: [FaultCase] = [
    FaultCase(mode: "null", status: 139, signal: "SIGSEGV (invalid memory access)"),
    FaultCase(mode: "overflow", status: 139, signal: "SIGSEGV (invalid memory access)"),
    FaultCase(mode: "ud2", status: 132, signal: "SIGILL (illegal instruction)"),
    FaultCase(mode: "div0", status: 136, signal: "SIGFPE (arithmetic error)"),
    FaultCase(mode: "int3", status: 133, signal: "SIGTRAP (breakpoint)"),
    FaultCase(mode: "bus", status: 135, signal: "SIGBUS (bus error)"),
]

/// Where the linker script puts every image (docs/abi.md).
private let imageBase: UInt64 = NABLA_MEM_BASE + 0x100000
/// The guard page below the stack with the default --mem of 64 MiB.
private let guardPage: Range<UInt64> = {
    let stackTop = NABLA_MEM_BASE + 64 * 1024 * 1024
    let start = stackTop - UInt64(NABLA_STACK_SIZE) - UInt64(NABLA_GUARD_SIZE)
    return start..<(start + UInt64(NABLA_GUARD_SIZE))
}()

@Suite("Attacks")
struct AttackTests {
    // MARK: - The canary itself

    @Test("the canary check notices a changed byte, a new file and a removed disk")
    func canaryNotices() throws {
        let dir = try CanaryDirectory()
        #expect(dir.damage().isEmpty)
        let disk = try dir.makeDisk()
        // Flip one byte of the canary (so it surely differs), then let a
        // shell in the directory add a file and remove the disk.
        var bytes = [UInt8](dir.canary)
        bytes[100] ^= 0xff
        try Data(bytes).write(to: URL(fileURLWithPath: dir.path + "/" + CanaryDirectory.canaryName))
        let outcome = try run("/bin/sh", ["-c", "cd \"$1\" && : > new && rm \"$2\"", "sh", dir.path, disk])
        #expect(outcome.status == 0, "\(outcome)")
        let damage = dir.damage()
        #expect(damage.contains { $0.hasPrefix("\(CanaryDirectory.canaryName) changed") }, "\(damage)")
        #expect(damage.contains("new file new"), "\(damage)")
        #expect(damage.contains("disk.img was removed"), "\(damage)")
        #expect(dir.damage(allowing: { $0 == "new" }).count == 2)
    }

    // MARK: - The default trap

    @Test("every system call number from 0 to 511 but the seven (and the kernel-exempt 335, 336) is stopped and named")
    func everyOtherNumberIsStopped() throws {
        let guest = try Paths.guest("attack-syscall")
        let numbers = (0...511).filter { !allowedNumbers.contains($0) && !kernelExemptNumbers.contains($0) }
        #expect(numbers.count == 503)
        var failures: [String] = []
        let chunk = 12
        for start in stride(from: 0, to: numbers.count, by: chunk) {
            let batch = Array(numbers[start..<min(start + chunk, numbers.count)])
            let runs = try batch.map { number -> (Int, CanaryRun) in
                (number, try CanaryDirectory().start([guest, String(number)]))
            }
            for (number, run) in runs {
                let outcome = try run.finish()
                let name = nabla_syscall_name(number).map { String(cString: $0) } ?? "unknown"
                if outcome.status != ExitStatus.forbiddenSyscall {
                    failures.append("\(number): status \(outcome.status)")
                }
                if outcome.stderr != forbiddenLine(name, number) {
                    failures.append("\(number): stderr \(outcome.stderr.debugDescription)")
                }
                if !outcome.stderr.hasPrefix(forbiddenPrefix) || !outcome.stderr.hasSuffix(" (\(number))\n") {
                    failures.append("\(number): not the forbidden-call line")
                }
                if outcome.stdout != "calling \(number)\n" {
                    failures.append("\(number): stdout \(outcome.stdout.debugDescription) (the call must not return)")
                }
                let damage = run.directory.damage()
                if !damage.isEmpty { failures.append("\(number): \(damage.joined(separator: "; "))") }
            }
        }
        #expect(failures.isEmpty, "\(failures.count) problems:\n\(failures.prefix(40).joined(separator: "\n"))")
    }

    @Test("uretprobe (335) and uprobe (336) are trapped, or, where the kernel exempts them from seccomp, refused by the kernel")
    func uprobeCalls() throws {
        let guest = try Paths.guest("attack-syscall")
        for number in kernelExemptNumbers.sorted() {
            let outcome = try withCanaryDirectory { try $0.run([guest, String(number)]) }
            if outcome.status == ExitStatus.forbiddenSyscall {
                // A kernel without the exemption: the default trap.
                #expect(outcome.stderr.hasPrefix(forbiddenPrefix) && outcome.stderr.hasSuffix(" (\(number))\n"), "\(outcome)")
                #expect(outcome.stdout == "calling \(number)\n")
            } else if number == 335 {
                // uretprobe outside a trampoline: the kernel forces SIGILL.
                #expect(outcome.status == 132, "\(outcome)")
                #expect(outcome.stdout == "calling 335\n")
                let pc = try #require(hexNumber(after: " at pc 0x", in: outcome.stderr), "\(outcome)")
                #expect(outcome.stderr == "nabla-run: guest fault: SIGILL (illegal instruction) at pc \(hexString(pc)) "
                        + "in \(try functionSymbol(containing: pc, in: guest)) "
                        + "(image offset \(hexString(pc &- imageBase)); addr2line -e \(guest) \(hexString(pc)))\n")
            } else {
                // uprobe outside a trampoline: -ENXIO, nothing else happens.
                #expect(outcome.status == 0, "\(outcome)")
                #expect(outcome.stdout == "calling 336\nreturned -6\n")
                #expect(outcome.stderr.isEmpty)
            }
        }
    }

    // MARK: - Pins: altered arguments are stopped

    @Test("a pinned call with an altered pin is stopped", arguments: alteredPins)
    func alteredPin(_ call: PinCase) throws {
        let outcome = try withCanaryDirectory { try $0.run([try Paths.guest("attack-syscall")] + call.arguments) }
        #expect(outcome.status == ExitStatus.forbiddenSyscall, "\(outcome)")
        #expect(outcome.stderr == forbiddenLine(call.name, call.number))
        #expect(outcome.stdout == "calling \(call.number)\n", "the call must not return")
    }

    @Test("disk pins: fd 3 is the disk; read, another fd or high bits are stopped, and the disk is unchanged")
    func alteredDiskPins() throws {
        let guest = try Paths.guest("attack-syscall")
        try withCanaryDirectory { dir in
            let disk = try dir.makeDisk()
            let policy = try dir.run(["--policy", "--disk", disk])
            #expect(policy.status == 0, "\(policy)")
            #expect(policy.stdout.contains("allow pread64 (17) if fd == 3 [disk disk (\(disk))]"), "\(policy.stdout)")
            #expect(policy.stdout.contains("allow pwrite64 (18) if fd == 3 [disk disk (\(disk))]"), "\(policy.stdout)")
            let cases: [(String, [String], String)] = [
                ("read on the disk fd", ["0", "3", "buf", "len"], "read"),
                ("write on the disk fd", ["1", "3", "buf", "len"], "write"),
                ("pread64 on fd 0x100000003", ["17", "0x100000003", "buf", "len", "0"], "pread64"),
                ("pwrite64 on fd 0x100000003", ["18", "0x100000003", "buf", "len", "0"], "pwrite64"),
                ("pread64 on fd 4", ["17", "4", "buf", "len", "0"], "pread64"),
                ("pwrite64 on fd 2", ["18", "2", "buf", "len", "0"], "pwrite64"),
            ]
            for (what, arguments, name) in cases {
                let outcome = try dir.run(["--disk", disk, guest] + arguments)
                #expect(outcome.status == ExitStatus.forbiddenSyscall, "\(what): \(outcome)")
                #expect(outcome.stderr == forbiddenLine(name, Int(arguments[0])!), "\(what)")
                #expect(outcome.stdout == "calling \(arguments[0])\n", "\(what): the call must not return")
            }
        }
    }

    @Test("tap pins: pread64 and pwrite64 on the tap fd, its fd with high bits, or a frame larger than 1514 bytes are stopped; read and write pass", .needsRoot("needs root: it creates a network namespace and TAP interfaces"))
    func tapPins() throws {
        let guest = try Paths.guest("attack-syscall")
        let tap = try Tap.unaddressed()
        try withCanaryDirectory(in: tap.namespace) { dir in
            // attack-syscall asks for offloads: declined here, so the pins
            // are the plain ones (tapPinsWithOffloads has the others).
            let policy = try dir.run(["--policy", "--no-net-offload", "--net", tap.name, guest])
            #expect(policy.status == 0, "\(policy)")
            let readRule = try #require(policy.stdout.split(separator: "\n").first { $0.hasPrefix("allow read (0) if fd == ") && $0.contains("[tap ") },
                                        "no read rule for the tap: \(policy)")
            let fd = try #require(Int(readRule.dropFirst("allow read (0) if fd == ".count).prefix { $0.isNumber }))
            #expect(policy.stdout.contains("allow write (1) if fd == \(fd) [tap net (\(tap.name))]"), "\(policy.stdout)")
            let stopped: [(String, [String], String)] = [
                ("pread64 on the tap fd", ["17", String(fd), "buf", "64", "0"], "pread64"),
                ("pwrite64 on the tap fd", ["18", String(fd), "buf", "64", "0"], "pwrite64"),
                ("read on the tap fd with bit 32 set", ["0", hexString(0x1_0000_0000 | UInt64(fd)), "buf", "64"], "read"),
                ("write on the tap fd with bit 32 set", ["1", hexString(0x1_0000_0000 | UInt64(fd)), "buf", "64"], "write"),
                ("read on fd 0 with a tap attached", ["0", "0", "buf", "1514"], "read"),
                ("read on the tap fd of less than a frame", ["0", String(fd), "buf", "64"], "read"),
                ("a 9000-byte jumbo frame", ["1", String(fd), "buf", "9000"], "write"),
                ("a 64972-byte frame", ["1", String(fd), "buf", "64972"], "write"),
                ("one byte past the largest frame", ["1", String(fd), "buf", "1515"], "write"),
            ]
            for (what, arguments, name) in stopped {
                let outcome = try dir.run(["--no-net-offload", "--net", tap.name, guest] + arguments)
                #expect(outcome.status == ExitStatus.forbiddenSyscall, "\(what): \(outcome)")
                #expect(outcome.stderr == forbiddenLine(name, Int(arguments[0])!), "\(what)")
                #expect(outcome.stdout == "calling \(arguments[0])\n", "\(what): the call must not return")
            }
            // The allowed forms: read finds nothing (the fd is non-blocking:
            // -EAGAIN), write sends one 64-byte frame onto the tap.
            let read = try dir.run(["--no-net-offload", "--net", tap.name, guest, "0", String(fd), "buf", "1514"])
            #expect(read.status == 0, "\(read)")
            #expect(read.stdout == "calling 0\nreturned -11\n")
            let write = try dir.run(["--no-net-offload", "--net", tap.name, guest, "1", String(fd), "buf", "64"])
            #expect(write.status == 0, "\(write)")
            #expect(write.stdout == "calling 1\nreturned 64\n")
        }
    }

    @Test("tap pins with offloads: a read of exactly 65559 bytes and a write of up to 65559 pass the filter; 65560, a plain frame's read and a 1 MiB write are stopped", .needsRoot("needs root: it creates a network namespace and TAP interfaces"))
    func tapPinsWithOffloads() throws {
        let guest = try Paths.guest("attack-syscall")
        let tap = try Tap.unaddressed()
        try withCanaryDirectory(in: tap.namespace) { dir in
            let policy = try dir.run(["--policy", "--net", tap.name, guest])
            #expect(policy.status == 0, "\(policy)")
            let readRule = try #require(policy.stdout.split(separator: "\n").first { $0.hasPrefix("allow read (0) if fd == ") && $0.contains("[tap ") },
                                        "no read rule for the tap: \(policy)")
            let fd = try #require(Int(readRule.dropFirst("allow read (0) if fd == ".count).prefix { $0.isNumber }))
            #expect(policy.stdout.contains("allow read (0) if fd == \(fd) [tap net (\(tap.name))] && count == 0x10017 [largest offload frame, header included]"), "\(policy.stdout)")
            #expect(policy.stdout.contains("allow write (1) if fd == \(fd) [tap net (\(tap.name))] && count <= 0x10017 [largest offload frame, header included]"), "\(policy.stdout)")
            let stopped: [(String, [String], String)] = [
                ("one byte past the largest offload frame", ["1", String(fd), "buf", "65560"], "write"),
                ("a 1 MiB write", ["1", String(fd), "buf", "1048576"], "write"),
                ("a read of one byte more", ["0", String(fd), "buf", "65560"], "read"),
                ("a read of a plain frame's size", ["0", String(fd), "buf", "1514"], "read"),
                ("pwrite64 on the tap fd", ["18", String(fd), "buf", "64", "0"], "pwrite64"),
            ]
            for (what, arguments, name) in stopped {
                let outcome = try dir.run(["--net", tap.name, guest] + arguments)
                #expect(outcome.status == ExitStatus.forbiddenSyscall, "\(what): \(outcome)")
                #expect(outcome.stderr == forbiddenLine(name, Int(arguments[0])!), "\(what)")
                #expect(outcome.stdout == "calling \(arguments[0])\n", "\(what): the call must not return")
            }
            // Allowed: the read finds nothing (-EAGAIN); the write of the
            // largest frame reaches the kernel, which refuses the 4 KiB
            // buffer's text as a virtio-net header (-EINVAL) or stops at the
            // buffer's end (-EFAULT): either way it returned.
            let read = try dir.run(["--net", tap.name, guest, "0", String(fd), "buf", "65559"])
            #expect(read.status == 0, "\(read)")
            #expect(read.stdout == "calling 0\nreturned -11\n")
            let write = try dir.run(["--net", tap.name, guest, "1", String(fd), "buf", "65559"])
            #expect(write.status == 0, "\(write)")
            #expect(write.stdout.hasPrefix("calling 1\nreturned "), "\(write)")
            #expect(dir.damage().isEmpty, "\(dir.damage())")
        }
    }

    // MARK: - Pins: allowed arguments pass

    @Test("an allowed call with its pinned arguments passes", arguments: allowedCalls)
    func allowedCall(_ call: AllowedCase) throws {
        let outcome = try withCanaryDirectory { try $0.run([try Paths.guest("attack-syscall")] + call.arguments) }
        #expect(outcome.status == call.status, "\(outcome)")
        #expect(outcome.stdout == call.stdout)
        #expect(outcome.stderr.isEmpty)
    }

    @Test("pread64 and pwrite64 on the disk fd pass; pwrite64 on a read-only disk is stopped")
    func diskRules() throws {
        let guest = try Paths.guest("attack-syscall")
        try withCanaryDirectory { dir in
            let disk = try dir.makeDisk()
            // The rules allow exactly the transfer sizes the hypercalls make
            // (powers of two from 512 B), ending inside the disk.
            let read = try dir.run(["--disk", disk, guest, "17", "3", "buf", "512", "0"])
            #expect(read.status == 0, "\(read)")
            #expect(read.stdout == "calling 17\nreturned 512\n")
            #expect(dir.damage().isEmpty, "pread64 changed the disk: \(dir.damage())")
            let odd = try dir.run(["--disk", disk, guest, "17", "3", "buf", "64", "0"])
            #expect(odd.status == ExitStatus.forbiddenSyscall, "a size the hypercalls never use: \(odd)")

            let write = try dir.run(["--disk", disk, guest, "18", "3", "buf", "512", "0"])
            #expect(write.status == 0, "\(write)")
            #expect(write.stdout == "calling 18\nreturned 512\n")
            let before = try #require(dir.original("disk.img"))
            let after = try Data(contentsOf: URL(fileURLWithPath: disk))
            #expect(after == Data("attack\n".utf8) + Data(count: 505) + before.dropFirst(512),
                    "pwrite64 must change exactly the first 512 bytes")
            try dir.accept("disk.img")

            let readOnly = try dir.run(["--disk-readonly", disk, guest, "18", "3", "buf", "len", "0"])
            #expect(readOnly.status == ExitStatus.forbiddenSyscall, "\(readOnly)")
            #expect(readOnly.stderr == forbiddenLine("pwrite64", 18))
            #expect(readOnly.stdout == "calling 18\n")
            let readOnlyRead = try dir.run(["--disk-readonly", disk, guest, "17", "3", "buf", "512", "0"])
            #expect(readOnlyRead.status == 0, "\(readOnlyRead)")
            #expect(readOnlyRead.stdout == "calling 17\nreturned 512\n")
        }
    }

    @Test("the address-pinned rules pass in their allowed form: ppoll through the poll hypercall, write(2, diag) through --trace")
    func addressPinnedRules() throws {
        try withCanaryDirectory { dir in
            // clock sleeps 50 ms in the poll hypercall: the tender's ppoll
            // on its own array, count and timeout.
            let clock = try dir.run([try Paths.guest("clock")])
            #expect(clock.status == 0, "\(clock)")
            #expect(clock.stdout.contains("ok monotonic advanced"), "\(clock)")
            #expect(clock.stderr.isEmpty)
            // --trace writes every hypercall through the diagnostic buffer.
            let trace = try dir.run(["--trace", try Paths.guest("clock")])
            #expect(trace.status == 0, "\(trace)")
            #expect(trace.stderr.contains("nabla-run: hypercall poll("), "\(trace.stderr)")
        }
    }

    // MARK: - Other architectures' entry points

    @Test("int 0x80 (the i386 entry) is stopped", arguments: [20, 4, 1])
    func int80(_ number: Int) throws {
        let outcome = try withCanaryDirectory { try $0.run([try Paths.guest("attack-int80"), String(number)]) }
        #expect(outcome.status == ExitStatus.forbiddenSyscall, "\(outcome)")
        #expect(outcome.stderr == "\(forbiddenPrefix)i386 system call (\(number))\n")
        #expect(outcome.stdout == "calling int 0x80 with eax=\(number)\n")
    }

    @Test("x32 numbers are stopped, even for calls the policy allows", arguments: [(39, "getpid"), (1, "write"), (228, "clock_gettime")])
    func x32(_ call: (Int, String)) throws {
        let number = 0x4000_0000 | call.0
        let outcome = try withCanaryDirectory { try $0.run([try Paths.guest("attack-x32"), String(call.0)]) }
        #expect(outcome.status == ExitStatus.forbiddenSyscall, "\(outcome)")
        #expect(outcome.stderr == "\(forbiddenPrefix)x32 \(call.1) (\(number))\n")
        #expect(outcome.stdout == "calling \(number)\n")
    }

    // MARK: - W^X

    @Test("writing to text, or running code on the stack or the heap, is a SIGSEGV", arguments: ["text", "stack", "heap"])
    func writeXorExecute(_ mode: String) throws {
        let image = try Paths.guest("attack-wx")
        let outcome = try withCanaryDirectory { try $0.run([image, mode]) }
        #expect(outcome.status == 139, "\(outcome)")
        let marker = mode == "text" ? "writing to text at 0x" : "calling code at 0x"
        let target = try #require(hexNumber(after: marker, in: outcome.stdout), "\(outcome)")
        #expect(outcome.stdout == String(marker.dropLast(2)) + hexString(target) + "\n", "the attack must not succeed")
        let pc = try #require(hexNumber(after: " at pc 0x", in: outcome.stderr), "\(outcome)")
        if mode == "text" {
            // The store faults in the image; the address is the function's.
            #expect(outcome.stderr == "nabla-run: guest fault: SIGSEGV (invalid memory access) at pc \(hexString(pc)) "
                    + "in \(try functionSymbol(containing: pc, in: image)) "
                    + "(image offset \(hexString(pc - imageBase)); addr2line -e \(image) \(hexString(pc))), address \(hexString(target))\n")
        } else {
            // The call itself faults: the pc is the data's address.
            #expect(pc == target)
            #expect(outcome.stderr == "nabla-run: fault outside the guest image: SIGSEGV (invalid memory access) "
                    + "at pc \(hexString(target)), address \(hexString(target))\n")
        }
    }

    // MARK: - Faults

    @Test("a fault is one line with pc, image offset and an addr2line hint, and 128 + the signal", arguments: faults)
    func fault(_ fault: FaultCase) throws {
        let image = try Paths.guest("attack-fault")
        let outcome = try withCanaryDirectory { try $0.run([image, fault.mode]) }
        #expect(outcome.status == fault.status, "\(outcome)")
        #expect(outcome.stdout == "fault \(fault.mode)\n", "the guest must not go on after the fault")
        let pc = try #require(hexNumber(after: " at pc 0x", in: outcome.stderr), "\(outcome)")
        let trapNote = fault.mode == "ud2" ? " (ud2: a failed runtime check in Swift, such as an overflow, an index out of range or nil unwrapped, or __builtin_trap in C)" : ""
        var expected = "nabla-run: guest fault: \(fault.signal) at pc \(hexString(pc)) in \(try functionSymbol(containing: pc, in: image))\(trapNote) "
            + "(image offset \(hexString(pc &- imageBase)); addr2line -e \(image) \(hexString(pc)))"
        switch fault.mode {
        case "null", "bus":
            // An alignment check has no faulting address: the kernel reports 0.
            expected += ", address 0x0"
        case "overflow":
            let address = try #require(hexNumber(after: ", address 0x", in: outcome.stderr), "\(outcome)")
            #expect(guardPage.contains(address), "\(hexString(address)) is not in the guard page \(hexString(guardPage.lowerBound))")
            expected += ", address \(hexString(address)): stack overflow into the guard page"
        default:
            break
        }
        #expect(outcome.stderr == expected + "\n")
        #expect(pc >= imageBase && pc < imageBase + 0x10_0000)
        // The hint works: addr2line names the guest's source.
        let resolved = try run("/usr/bin/addr2line", ["-e", image, hexString(pc)])
        #expect(resolved.stdout.contains("attack-fault.c:"), "\(resolved)")
    }

    // MARK: - Time and core files

    @Test("--timeout stops a spinning guest with 124 and one line")
    func timeout() throws {
        let started = Date()
        let outcome = try withCanaryDirectory { try $0.run(["--timeout", "0.5", try Paths.guest("attack-spin")], timeout: 10) }
        let elapsed = Date().timeIntervalSince(started)
        #expect(outcome.status == ExitStatus.timedOut, "\(outcome)")
        #expect(outcome.stderr == "nabla-run: guest timed out after 0.500 s (--timeout)\n")
        #expect(outcome.stdout == "spinning\n")
        #expect(elapsed >= 0.5 && elapsed < 5, "took \(elapsed) s")
    }

    @Test("--core: a fault prints its line and dumps core for its signal; gdb unwinds from the handler to the guest's pc",
          arguments: faults)
    func coreDump(_ fault: FaultCase) throws {
        let pattern = (try? String(contentsOfFile: "/proc/sys/kernel/core_pattern", encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines) ?? "?"
        try #require(pattern == "core",
                     "this test needs /proc/sys/kernel/core_pattern = core (it is '\(pattern)'): echo core > /proc/sys/kernel/core_pattern")
        let image = try Paths.guest("attack-fault")
        let dir = try CanaryDirectory()
        let outcome = try dir.run(["--core", image, fault.mode], timeout: 60)
        #expect(outcome.status == fault.status, "\(outcome)")
        #expect(outcome.stderr.hasPrefix("nabla-run: guest fault: \(fault.signal) at pc 0x"), "\(outcome)")
        #expect(outcome.stderr.split(separator: "\n").count == 1)
        let pc = try #require(hexNumber(after: " at pc 0x", in: outcome.stderr), "\(outcome)")
        let isCore: (String) -> Bool = { $0 == "core" || ($0.hasPrefix("core.") && Int($0.dropFirst(5)) != nil) }
        dir.expectUntouched(allowing: isCore)
        let files = try FileManager.default.contentsOfDirectory(atPath: dir.path)
        var limit = rlimit()
        _ = getrlimit(__rlimit_resource_t(RLIMIT_CORE.rawValue), &limit)
        let hardLimit = limit.rlim_max == rlim_t.max ? "unlimited" : String(limit.rlim_max)
        let name = try #require(files.first(where: isCore),
                                "no core file in \(dir.path): \(files) (the tender raises RLIMIT_CORE to the hard limit, here \(hardLimit))")
        let core = try Data(contentsOf: URL(fileURLWithPath: dir.path + "/" + name), options: .alwaysMapped)
        #expect(core.count > 0, "the core file is empty")
        // An ELF core file: magic, then e_type == ET_CORE (4) at offset 16.
        #expect(core.count > 18 && core.prefix(4) == Data([0x7f, 0x45, 0x4c, 0x46]) && core[16] == 4,
                "\(name) is not an ELF core file")

        // The handler dumped core from its own frame (it faulted again there,
        // with no rt_sigreturn): gdb sees it on top of the signal frame and
        // unwinds through that to the guest's registers at the fault.
        let gdb = try run("/usr/bin/gdb", ["-batch", "-nx", "-ex", "add-symbol-file \(image)", "-ex", "bt",
                                           "-ex", "python f = gdb.newest_frame()",
                                           "-ex", "python exec('while f is not None and f.type() != gdb.SIGTRAMP_FRAME: f = f.older()')",
                                           "-ex", "python print('guest pc %#x' % f.older().pc())",
                                           Paths.tender, dir.path + "/" + name], timeout: 120)
        let signalName = String(fault.signal.prefix { $0 != " " }), said = gdb.stdout + gdb.stderr
        #expect(said.contains("Program terminated with signal \(signalName),"), "\(said)")
        #expect(said.contains(" in nabla_signal_fault (") && said.contains("  <signal handler called>\n"), "\(said)")
        #expect(said.contains("attack-fault.c:"), "the guest's frames have its source lines: \(said)")
        #expect(said.contains("guest pc \(hexString(pc))\n"), "\(said)")
    }
}

/// The function symbol of `image` whose range holds `pc`, from nm: what the
/// fault line names.
func functionSymbol(containing pc: UInt64, in image: String) throws -> String {
    let listing = try run("/usr/bin/nm", ["-S", "--defined-only", image])
    for line in listing.stdout.split(separator: "\n") {
        let fields = line.split(separator: " ")
        guard fields.count == 4, "tT".contains(fields[2]), let start = UInt64(fields[0], radix: 16),
              let size = UInt64(fields[1], radix: 16), pc >= start, pc - start < size else { continue }
        return String(fields[3])
    }
    throw HarnessError("no function symbol of \(image) holds \(hexString(pc))")
}
