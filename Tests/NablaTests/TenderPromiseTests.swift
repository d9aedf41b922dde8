// TenderPromiseTests.swift: attacks on the tender's own state and promises
// (issue "Tighter pins and kept promises"): the guest shares the tender's
// address space, so it can write the tender's memory, fill its stderr, lay
// its stack where a hypercall writes, or print the tender's own lines. Each
// test runs the attack-tender or attack-syscall guest in a canary directory
// (Support/Canary.swift) and checks what the docs promise: docs/security.md,
// "Attacks and what stops them".

import CNablaTender
import Foundation
import Testing
@testable import Nabla

/// The address of symbol `name` in the tender binary, plus `offset`, as the
/// attack guests take it: `thunk+N`, relative to the puts thunk, whose run
/// address the guest finds in its hypercall table (the release tender is a
/// static PIE, loaded at a random address; nabla_attack.h).
private func tenderSymbol(_ name: String, plus offset: UInt64 = 0) throws -> String {
    let outcome = try run("/usr/bin/nm", [Paths.tender])
    var symbols: [String: UInt64] = [:]
    for line in outcome.stdout.split(separator: "\n") {
        let fields = line.split(separator: " ")
        if fields.count == 3, let address = UInt64(fields[0], radix: 16) { symbols[String(fields[2])] = address }
    }
    guard let target = symbols[name], let thunk = symbols["nabla_hypercall_puts"] else {
        throw HarnessError("no symbol \(name) or nabla_hypercall_puts in \(Paths.tender) (nm: \(outcome.stderr))")
    }
    let address = target + offset
    return address >= thunk ? "thunk+0x" + String(address - thunk, radix: 16) : "thunk-0x" + String(thunk - address, radix: 16)
}

/// The size in bytes of data symbol `name` in the tender binary (`nm -S`).
private func tenderSymbolSize(_ name: String) throws -> UInt64 {
    let outcome = try run("/usr/bin/nm", ["-S", Paths.tender])
    for line in outcome.stdout.split(separator: "\n") {
        let fields = line.split(separator: " ")
        if fields.count == 4, fields[3] == name, let size = UInt64(fields[1], radix: 16) { return size }
    }
    throw HarnessError("no sized symbol \(name) in \(Paths.tender) (nm -S: \(outcome.stderr))")
}

/// The tender's diagnostic buffer (the address the write rule pins).
private func diagnosticBuffer() throws -> String {
    try tenderSymbol("scratch", plus: UInt64(MemoryLayout<nabla_host_scratch>.offset(of: \.diag)!))
}

/// The tender's stdin buffer (the address the read rule on fd 0 pins).
private func stdinBuffer(plus offset: UInt64 = 0) throws -> String {
    try tenderSymbol("stdin_buffer", plus: offset)
}

private let forbiddenPrefix = "nabla-run: guest made a forbidden system call: "

@Suite("Attacks on the tender's promises")
struct TenderPromiseTests {
    // MARK: - Disks: offset and size pinned

    @Test("a raw pwrite64 or pread64 past a disk's end is stopped by the filter; the file neither grows nor changes")
    func diskRange() throws {
        let guest = try Paths.guest("attack-syscall")
        try withCanaryDirectory { dir in
            let disk = try dir.makeDisk(size: 4096)
            let stopped: [[String]] = [
                ["18", "3", "buf", "len", "0x10000000000"],  // 1 TiB past the end: the file would grow
                ["18", "3", "buf", "len", "4096"],           // just past the end
                ["18", "3", "buf", "len", "4090"],           // starts inside, ends outside
                ["18", "3", "buf", "4097", "0"],             // longer than the disk
                ["17", "3", "buf", "1", "4096"],             // a read past the end
                ["18", "3", "buf", "0x8000000000000000", "0"],
                ["18", "3", "buf", "2048", "3584"],          // 2 KiB from 512 bytes before the end (allowed by
                ["17", "3", "buf", "4096", "512"],           // count <= S pins, which libseccomp merged unsoundly)
            ]
            for arguments in stopped {
                let outcome = try dir.run(["--disk", disk, guest] + arguments)
                #expect(outcome.status == ExitStatus.forbiddenSyscall, "\(arguments): \(outcome)")
                let name = arguments[0] == "18" ? "pwrite64" : "pread64"
                #expect(outcome.stderr == "\(forbiddenPrefix)\(name) (\(arguments[0]))\n", "\(arguments)")
            }
            // Inside the disk, each of the transfers the hypercall makes passes.
            let read = try dir.run(["--disk", disk, guest, "17", "3", "buf", "512", "3584"])
            #expect(read.stdout == "calling 17\nreturned 512\n", "\(read)")
            let write = try dir.run(["--disk", disk, guest, "18", "3", "buf", "512", "3584"])
            #expect(write.stdout == "calling 18\nreturned 512\n", "\(write)")
            #expect(try Data(contentsOf: URL(fileURLWithPath: disk)).count == 4096)
            try dir.accept("disk.img")
        }
    }

    @Test("blkread and blkwrite still reach every sector, split into the chunks the filter allows",
          arguments: [4096, 3 * 512, 1 << 20, (1 << 20) + 3 * 512])
    func blockChunks(capacity: Int) throws {
        // Every chunk size, at every distance from the end, is one the
        // hypercall picks and the filter allows: a plan that the filter would
        // refuse ends the guest with status 159 instead of returning.
        for position in stride(from: UInt64(0), to: UInt64(capacity), by: 512) {
            var done: UInt64 = 0
            let length = UInt64(capacity) - position
            while done < length {
                let room = UInt64(capacity) - (position + done)
                let chunk = min(length - done, BlockChunk.largest(fitting: room))
                #expect(chunk > 0 && chunk <= room)
                let allowed = BlockChunk.sizes(capacity: UInt64(capacity)).contains { chunk <= $0 && position + done <= UInt64(capacity) - $0 }
                #expect(allowed, "a \(chunk)-byte transfer at \(position + done) of \(capacity) has no rule")
                done += chunk
            }
        }
        try withCanaryDirectory { dir in
            let disk = try dir.makeDisk(size: capacity)
            let outcome = try dir.run(["--disk", disk, try Paths.guest("blk"), "write", "7"])
            #expect(outcome.status == 0, "\(outcome)")
            #expect(outcome.stdout.contains("blk: verified \(capacity) bytes in "), "\(outcome)")
            try dir.accept("disk.img")
        }
    }

    // MARK: - Console, stderr and TAP counts

    @Test("write on stderr is pinned to at most the diagnostic buffer's 512 bytes")
    func stderrCount() throws {
        let guest = try Paths.guest("attack-syscall"), diag = try diagnosticBuffer()
        try withCanaryDirectory { dir in
            let long = try dir.run([guest, "1", "2", diag, "100000"])
            #expect(long.status == ExitStatus.forbiddenSyscall, "\(long)")
            #expect(long.stderr == "\(forbiddenPrefix)write (1)\n")
            let whole = try dir.run([guest, "1", "2", diag, "512"])
            #expect(whole.status == 0 && whole.stdout.hasSuffix("returned 512\n"), "\(whole)")
        }
    }

    @Test("read on stdin is pinned to fd 0, the tender's stdin buffer and at most its 65536 bytes")
    func stdinReadPins() throws {
        let guest = try Paths.guest("attack-syscall"), buffer = try stdinBuffer()
        let limit = String(NABLA_STDIN_CHUNK)
        try withCanaryDirectory { dir in
            // Allowed at the limit: stdin is /dev/null, so it returns 0 (end of file).
            let whole = try dir.run([guest, "0", "0", buffer, limit])
            #expect(whole.status == 0 && whole.stdout == "calling 0\nreturned 0\n", "\(whole)")
            let small = try dir.run([guest, "0", "0", buffer, "1"])
            #expect(small.status == 0 && small.stdout == "calling 0\nreturned 0\n", "\(small)")
            let stopped: [(String, [String])] = [
                ("one byte over the limit", ["0", "0", buffer, String(NABLA_STDIN_CHUNK + 1)]),
                ("a huge count", ["0", "0", buffer, "0xffffffffffffffff"]),
                ("fd 1", ["0", "1", buffer, "16"]),
                ("fd 2", ["0", "2", buffer, "16"]),
                ("fd 0 with bit 32 set", ["0", "0x100000000", buffer, "16"]),
                ("one byte into the buffer", ["0", "0", try stdinBuffer(plus: 1), "16"]),
                ("the guest's own buffer", ["0", "0", "buf", "16"]),
                ("the diagnostic buffer", ["0", "0", try diagnosticBuffer(), "16"]),
            ]
            for (what, arguments) in stopped {
                let outcome = try dir.run([guest] + arguments)
                #expect(outcome.status == ExitStatus.forbiddenSyscall, "\(what): \(outcome)")
                #expect(outcome.stderr == "\(forbiddenPrefix)read (0)\n", "\(what)")
                #expect(outcome.stdout == "calling 0\n", "\(what): the call must not return")
            }
        }
    }

    // MARK: - The sealed host state

    @Test("the tender's host state is read-only to the guest: writing it faults, with the line and no core file")
    func sealedHostState() throws {
        let imagePathOffset = UInt64(MemoryLayout<nabla_host_config>.offset(of: \.image_path)!)
        let devicesOffset = UInt64(MemoryLayout<nabla_host_config>.offset(of: \.devices)!)
        let guest = try Paths.guest("attack-tender")
        for offset in [imagePathOffset + UInt64(NABLA_IMAGE_PATH_SIZE) - 1, devicesOffset, 0] {
            let target = try tenderSymbol("sealed", plus: offset)
            try withCanaryDirectory { dir in
                // ulimit -c unlimited: only --core may leave a core file.
                let outcome = try run("/bin/sh", ["-c", "cd \"$1\" && shift && ulimit -c unlimited && exec \"$@\"",
                                                  "sh", dir.path, Paths.tender, guest, "poke", target, "0"])
                #expect(outcome.status == 139, "\(outcome)")
                #expect(outcome.stdout == "", "the write must not succeed: \(outcome)")
                #expect(outcome.stderr.hasPrefix("nabla-run: guest fault: SIGSEGV (invalid memory access) at pc 0x"), "\(outcome)")
                // The run's address is random, but keeps its page offset;
                // a write outside the tender would not fault at that offset.
                let pageOffset = String(offset & 0xfff + 0x1000, radix: 16).dropFirst()
                #expect(outcome.stderr.contains(", address 0x") && outcome.stderr.hasSuffix("\(pageOffset)\n")
                        && !outcome.stderr.contains("outside the guest image"), "\(outcome)")
            }
        }
        // The control: the same addressing reaches the tender's writable
        // scratch state, so the faults above are the seal's.
        let control = try nablaRun([guest, "poke", try diagnosticBuffer(), "0"])
        #expect(control.status == 0 && control.stdout == "poked\n", "\(control)")
    }

    @Test("the tender's relocated constants (PT_GNU_RELRO: its hypercall thunk table, GOT, Swift tables) are read-only to the guest")
    func readOnlyRelocations() throws {
        // musl's static-PIE start leaves them writable; runtime.c seals them.
        let outcome = try nablaRun([try Paths.guest("attack-tender"), "poke", try tenderSymbol("thunks"), "0"])
        #expect(outcome.status == 139, "\(outcome)")
        #expect(outcome.stdout == "", "the write must not succeed: \(outcome)")
        #expect(outcome.stderr.hasPrefix("nabla-run: guest fault: SIGSEGV (invalid memory access) at pc 0x"), "\(outcome)")
    }

    @Test("a guest fault leaves no core file without --core, whatever the core limit",
          .enabled(if: (try? String(contentsOfFile: "/proc/sys/kernel/core_pattern", encoding: .utf8)) == "core\n",
                   "needs /proc/sys/kernel/core_pattern = core, so a core file would land in the working directory"))
    func noCoreWithoutFlag() throws {
        let guest = try Paths.guest("attack-fault")
        try withCanaryDirectory { dir in
            let outcome = try run("/bin/sh", ["-c", "cd \"$1\" && shift && ulimit -c unlimited && exec \"$@\"",
                                              "sh", dir.path, Paths.tender, guest, "null"])
            #expect(outcome.status == 139, "\(outcome)")
        }
    }

    // MARK: - The end of the process cannot be blocked

    /// Runs nabla-run with stderr on a FIFO nobody reads (a full pipe after
    /// 64 KiB) and returns the child, the FIFO's reader kept open.
    private func startWithFullStderr(_ arguments: [String], in dir: CanaryDirectory) throws -> (Child, Int32, String) {
        let fifo = NSTemporaryDirectory() + "nabla-stderr-" + UUID().uuidString
        guard mkfifo(fifo, 0o600) == 0 else { throw HarnessError("mkfifo \(fifo): \(Errno(rawValue: errno))") }
        let reader = open(fifo, O_RDONLY | O_NONBLOCK)
        let (executable, shellArguments) = try dir.command(arguments)
        let child = try Child(executable, shellArguments, stderr: fifo)
        return (child, reader, fifo)
    }

    @Test("--timeout ends a guest whose stderr is full, however the handler is blocked",
          arguments: ["spin", "forbidden", "fault"])
    func timeoutWithFullStderr(then: String) throws {
        let guest = try Paths.guest("attack-tender"), diag = try diagnosticBuffer()
        try withCanaryDirectory { dir in
            let (child, reader, fifo) = try startWithFullStderr(["--timeout", "0.3", guest, "stderr", diag, "131072", then], in: dir)
            defer { close(reader); unlink(fifo) }
            let status = child.wait(timeout: 5)
            #expect(status == ExitStatus.timedOut, "status \(String(describing: status)) (nil: still running after 5 s)")
        }
    }

    @Test("--timeout prints its line whatever the guest wrote over the tender's writable state", arguments: ["0xff", "0x01"])
    func timeoutLineKept(byte: String) throws {
        // The scratch state is all the handlers may write under the filter,
        // so the guest can write it too: the SIGALRM handler must trust
        // nothing in it (it once kept "line already written" there).
        let guest = try Paths.guest("attack-tender")
        let scratch = try tenderSymbol("scratch"), size = try tenderSymbolSize("scratch")
        try withCanaryDirectory { dir in
            let outcome = try dir.run(["--timeout", "0.3", guest, "fill", scratch, String(size), byte], timeout: 10)
            #expect(outcome.status == ExitStatus.timedOut, "\(outcome)")
            #expect(outcome.stdout == "filled\n", "\(outcome)")
            #expect(outcome.stderr == "nabla-run: guest timed out after 0.300 s (--timeout)\n", "\(outcome)")
        }
    }

    @Test("--core adds no rule: a forged signal frame that blocks every signal is stopped, and --timeout keeps its hold")
    func coreKeepsSignalMask() throws {
        let guest = try Paths.guest("attack-tender")
        try withCanaryDirectory { dir in
            for image in [guest, try solo5Guest("hello")] {
                let policy = try dir.run(["--policy", "--core", image])
                #expect(policy.status == 0 && policy.stdout.contains("allow exit_group"), "\(policy)")
                #expect(!policy.stdout.contains("rt_sigreturn"), "\(policy.stdout)")
            }
            // With rt_sigreturn allowed, the frame blocked SIGALRM, SIGTERM and
            // SIGINT and the guest spun until SIGKILL.
            let started = Date()
            let outcome = try dir.run(["--core", "--timeout", "0.5", guest, "sigreturn"], timeout: 10)
            #expect(outcome.status == ExitStatus.forbiddenSyscall, "\(outcome)")
            #expect(outcome.stdout == "forging a signal frame\n", "\(outcome)")
            #expect(outcome.stderr == "\(forbiddenPrefix)rt_sigreturn (15)\n", "\(outcome)")
            #expect(Date().timeIntervalSince(started) < 5)
        }
    }

    @Test("SIGTERM and SIGINT end a guest whose stderr is full", arguments: [SIGTERM, SIGINT])
    func terminationWithFullStderr(signal: Int32) throws {
        let guest = try Paths.guest("attack-tender"), diag = try diagnosticBuffer()
        try withCanaryDirectory { dir in
            // Exactly the pipe's 64 KiB: the guest's own writes all fit, and
            // the handler's line is the one that waits.
            let (child, reader, fifo) = try startWithFullStderr([guest, "stderr", diag, "65536", "forbidden"], in: dir)
            defer { close(reader); unlink(fifo) }
            #expect(child.wait(timeout: 0.5) == nil, "the handler should be blocked in its write")
            kill(child.pid, signal)
            let status = child.wait(timeout: 3)
            #expect(status == 128 + signal, "status \(String(describing: status)) (nil: still running 3 s after the signal)")
        }
    }

    @Test("SIGXFSZ does not kill the tender: past RLIMIT_FSIZE a write fails with EFBIG")
    func fileSizeLimit() throws {
        let guest = try Paths.guest("attack-syscall")
        try withCanaryDirectory { dir in
            let disk = try dir.makeDisk(size: 16384)
            // dash's ulimit -f counts 512-byte blocks: 4 is 2048 bytes.
            let outcome = try run("/bin/sh", ["-c", "cd \"$1\" && shift && ulimit -f 4 && exec \"$@\"",
                                              "sh", dir.path, Paths.tender, "--disk", disk, guest, "18", "3", "buf", "512", "8192"])
            #expect(outcome.status == 0, "\(outcome)")
            #expect(outcome.stdout == "calling 18\nreturned -\(EFBIG)\n", "\(outcome)")
            #expect(outcome.stderr == "")
            // Through the hypercall: blkwrite returns NABLA_EIO past the limit.
            let blk = try run("/bin/sh", ["-c", "cd \"$1\" && shift && ulimit -f 4 && exec \"$@\"",
                                          "sh", dir.path, Paths.tender, "--disk", disk, try Paths.guest("blk"), "write", "1"])
            #expect(blk.status == 3, "\(blk)")
            // Its first request (512 bytes) fits; the second (4 KiB at 512)
            // reaches the 2048-byte limit part-way.
            #expect(blk.stdout == "blk: write failed at offset 512: \(NABLA_EIO)\n", "\(blk)")
            try dir.accept("disk.img")
        }
    }

    // MARK: - Hypercalls on the tender's own stack

    @Test("a blkread into the guest's stack just below its stack pointer cannot redirect the hypercall's return")
    func hypercallStack() throws {
        try withCanaryDirectory { dir in
            // Disk bytes that, as return addresses, would fault.
            let disk = dir.path + "/stack.img"
            try Data(repeating: 0x41, count: 65536).write(to: URL(fileURLWithPath: disk))
            try dir.accept("stack.img")
            let outcome = try dir.run(["--disk", disk, try Paths.guest("attack-tender"), "hcstack"])
            #expect(outcome.status == 0, "\(outcome)")
            #expect(outcome.stdout == "blkread into the stack below sp returned 0\nsurvived\n", "\(outcome)")
        }
    }

    @Test("a hypercall made with a misaligned stack pointer works")
    func misalignedStack() throws {
        let outcome = try withCanaryDirectory { try $0.run([try Paths.guest("attack-tender"), "misaligned"]) }
        #expect(outcome.status == 0, "\(outcome)")
        #expect(outcome.stdout == "puts with a misaligned stack\nputs returned 29\n")
    }

    // MARK: - --audit tells what the guest cannot forge

    @Test("--audit gives every attack guest the exit status of a plain run", arguments: [
        ["attack-fault", "null"], ["attack-fault", "overflow"], ["attack-fault", "ud2"], ["attack-fault", "div0"],
        ["attack-fault", "int3"], ["attack-syscall", "39"], ["attack-syscall", "0xffffffffffffffff"], ["attack-int80", "20"],
        ["attack-x32", "39"], ["attack-wx", "text"], ["attack-wx", "stack"], ["attack-wx", "heap"],
        ["attack-tender", "misaligned"], ["attack-tender", "poke", "0", "0"],
    ])
    func auditKeepsStatus(_ arguments: [String]) throws {
        let guest = try Paths.guest(arguments[0])
        try withCanaryDirectory { dir in
            let plain = try dir.run([guest] + arguments.dropFirst())
            let audited = try dir.run(["--audit", guest] + arguments.dropFirst())
            #expect(plain.status == audited.status, "plain: \(plain)\naudited: \(audited)")
            #expect(audited.stderr.hasPrefix(plain.stderr), "the tender's own line comes first in both")
            #expect(!plain.stderr.contains("SIGSEGV") || plain.status == 139)
        }
    }

    @Test("--audit with --timeout keeps status 124 and says the timeout fired")
    func auditTimeout() throws {
        let outcome = try withCanaryDirectory { try $0.run(["--audit", "--timeout", "0.3", try Paths.guest("attack-spin")]) }
        #expect(outcome.status == ExitStatus.timedOut, "\(outcome)")
        #expect(outcome.stderr.contains("verdict: --timeout expired (SIGALRM, seen by the tracer)"), "\(outcome)")
    }

    @Test("a guest can print the tender's forbidden-call line itself; --audit's verdict tells it from a real trap")
    func forgedLine() throws {
        let guest = try Paths.guest("attack-tender"), diag = try diagnosticBuffer()
        try withCanaryDirectory { dir in
            let forged = try dir.run([guest, "forge", diag, "159"])
            #expect(forged.status == ExitStatus.forbiddenSyscall, "\(forged)")
            #expect(forged.stderr == "\(forbiddenPrefix)openat (257)\n", "the line is forgeable, as security.md says")
            let audited = try dir.run(["--audit", guest, "forge", diag, "159"])
            #expect(audited.status == ExitStatus.forbiddenSyscall)
            #expect(audited.stderr.contains("verdict: the guest exited with status 159 (no trap, no timeout)"), "\(audited)")
            let real = try dir.run(["--audit", try Paths.guest("attack-syscall"), "257"])
            #expect(real.stderr.contains("verdict: the filter trapped openat (257) (SIGSYS from seccomp, seen by the tracer)"), "\(real)")
        }
    }

    @Test("--audit keeps counts, not every call: its memory does not grow with the number of calls",
          .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/time"), "needs /usr/bin/time (Debian package time)"))
    func auditMemory() throws {
        let guest = try Paths.guest("attack-tender")
        func peakKilobytes(_ calls: Int) throws -> Int {
            let outcome = try run("/usr/bin/time", ["-f", "maxrss %M", Paths.tender, "--audit", guest, "flood", String(calls)], timeout: 120)
            #expect(outcome.status == 0, "\(outcome)")
            #expect(outcome.stderr.contains("  clock_gettime        \(calls)\n"), "\(outcome.stderr)")
            let line = try #require(outcome.stderr.split(separator: "\n").last { $0.hasPrefix("maxrss ") })
            return try #require(Int(line.dropFirst("maxrss ".count)))
        }
        let few = try peakKilobytes(1000), many = try peakKilobytes(200_000)
        #expect(many - few < 4096, "the tracer grew by \(many - few) KiB for 199,000 more calls")
    }

    @Test("system call number -1 is named as unknown, not as an x32 call")
    func minusOne() throws {
        let outcome = try withCanaryDirectory { try $0.run([try Paths.guest("attack-syscall"), "0xffffffffffffffff"]) }
        #expect(outcome.status == ExitStatus.forbiddenSyscall)
        #expect(outcome.stderr == "\(forbiddenPrefix)unknown (-1)\n", "\(outcome)")
    }
}
