// ProcessTests.swift: a guest's process as a program expects it on Linux
// (issue 22, parts 1-3): standard input from pipes, files and terminals to
// end of file, isatty telling the truth, stderr apart from stdout, fresh
// randomness every run, CPU-time clocks, identity, and an environment.
// The guests are `cat` (stdin to stdout) and `process` (one question per
// mode); docs/abi.md has the contract.

import Foundation
import Testing
import CNablaTender
@testable import Nabla

/// Runs `script` with sh, `$1` the tender and `$2` the guest, then the rest.
private func shell(_ script: String, guest: String, _ more: [String] = [], timeout: Double = 60) throws -> Outcome {
    try run("/bin/sh", ["-c", script, "sh", Paths.tender, try Paths.guest(guest)] + more, timeout: timeout)
}

/// `count` bytes in which every byte value occurs, NULs and newlines included.
private func binaryBytes(_ count: Int) -> Data {
    var generator = SystemRandomNumberGenerator()
    var bytes = [UInt8](repeating: 0, count: count)
    for index in 0..<count { bytes[index] = index < 256 ? UInt8(index) : UInt8.random(in: 0...255, using: &generator) }
    return Data(bytes)
}

/// The value after `label ` on the line that starts with it.
private func field(_ label: String, in text: String) -> String? {
    text.split(separator: "\n").first { $0.hasPrefix(label + " ") }.map { String($0.dropFirst(label.count + 1)) }
}

/// `key=N` in `line`, as a number.
private func number(_ key: String, in line: String) -> UInt64? {
    line.split(separator: " ").first { $0.hasPrefix(key + "=") }.flatMap { UInt64($0.dropFirst(key.count + 1)) }
}

@Suite("Standard streams")
struct StandardStreamTests {
    @Test("echo hello | nabla-run cat.nabla prints hello, raw reads and stdio alike")
    func pipedStdin() throws {
        for script in ["echo hello | \"$1\" \"$2\"", "echo hello | \"$1\" \"$2\" stdio"] {
            let outcome = try shell(script, guest: "cat")
            #expect(outcome.status == 0, "\(script): \(outcome)")
            #expect(outcome.stdout == "hello\n", "\(script): \(outcome)")
            #expect(outcome.stderr.isEmpty, "\(script): \(outcome)")
        }
    }

    @Test("binary input of 3 MiB round-trips exactly through a pipe and from a file, raw and through stdio")
    func largeBinary() throws {
        try withTemporaryDirectory { dir in
            let input = dir + "/in.bin"
            let data = binaryBytes(3 << 20)
            try data.write(to: URL(fileURLWithPath: input))
            let cases: [(String, String)] = [
                ("pipe, raw", "cat \"$3\" | \"$1\" \"$2\" > \"$4\""),
                ("pipe, stdio", "cat \"$3\" | \"$1\" \"$2\" stdio > \"$4\""),
                ("file, raw", "\"$1\" \"$2\" < \"$3\" > \"$4\""),
                ("file, stdio, into a pipe", "\"$1\" \"$2\" stdio < \"$3\" | cat > \"$4\""),
            ]
            for (what, script) in cases {
                let output = dir + "/out.bin"
                let outcome = try shell(script, guest: "cat", [input, output])
                #expect(outcome.status == 0, "\(what): \(outcome)")
                let copied = try Data(contentsOf: URL(fileURLWithPath: output))
                // Compared outside #expect, which would describe 3 MiB byte by byte on failure.
                let same = copied == data
                #expect(same, "\(what): \(copied.count) bytes came back of \(data.count), \(same ? "the same" : "not the same")")
            }
        }
    }

    @Test("an empty or closed stdin is end of file at once, not a hang")
    func emptyStdin() throws {
        let empty = try shell("\"$1\" \"$2\" < /dev/null", guest: "cat", timeout: 10)
        #expect(empty.status == 0 && empty.stdout.isEmpty && empty.stderr.isEmpty, "\(empty)")
        let closed = try shell("\"$1\" \"$2\" <&-", guest: "cat", timeout: 10)
        #expect(closed.status == 1, "\(closed)")
        #expect(closed.stderr == "cat: read: I/O error\n", "\(closed)")
    }

    @Test("a guest blocked reading an idle stdin still ends: --timeout gives 124, SIGTERM 143")
    func blockedReader() throws {
        try withTemporaryDirectory { dir in
            // The shell holds the FIFO open for writing (fd 3), so the read
            // waits for input that never comes rather than seeing end of file.
            let script = "mkfifo \"$3/in\"; exec 3<>\"$3/in\"; \"$1\" --timeout 0.5 \"$2\" < \"$3/in\"; echo \"status $?\""
            let start = Date()
            let timedOut = try shell(script, guest: "cat", [dir], timeout: 10)
            #expect(timedOut.stdout == "status 124\n", "\(timedOut)")
            #expect(Date().timeIntervalSince(start) < 5, "the timeout took \(Date().timeIntervalSince(start)) s")
            let term = "mkfifo \"$3/t\"; exec 3<>\"$3/t\"; \"$1\" \"$2\" < \"$3/t\" & sleep 0.3; kill -TERM $!; wait $!; echo \"status $?\""
            let terminated = try shell(term, guest: "cat", [dir], timeout: 10)
            #expect(terminated.stdout == "status 143\n", "\(terminated)")
        }
    }

    @Test("one read returns at most 65536 bytes, as from a pipe; a 0-byte read returns 0")
    func readChunk() throws {
        let big = try shell("head -c 200000 /dev/zero | \"$1\" \"$2\" read 1000000", guest: "process")
        #expect(big.status == 0, "\(big)")
        let count = big.stdout.split(separator: " ").dropFirst().first.flatMap { Int($0) } ?? -1
        #expect(count > 0 && count <= Int(NABLA_STDIN_CHUNK), "\(big)")
        let zero = try shell("echo x | \"$1\" \"$2\" read 0", guest: "process")
        #expect(zero.stdout == "read 0 errno 0\n", "\(zero)")
    }

    @Test("isatty is false for a pipe and a file, and fstat names them")
    func isattyPipe() throws {
        let outcome = try shell("echo | \"$1\" \"$2\" tty | cat", guest: "process")
        #expect(outcome.status == 0, "\(outcome)")
        // The harness sends stderr to a file.
        #expect(outcome.stdout == "fd 0 isatty 0 fifo\nfd 1 isatty 0 fifo\nfd 2 isatty 0 reg\n", "\(outcome)")
    }

    @Test("isatty is true for each stream on a terminal (script(1) gives the run a pty)")
    func isattyTerminal() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/script") else {
            Issue.record("skipped: needs script(1) from util-linux (tools/install-deps installs it)")
            return
        }
        let command = "\"$1\" \"$2\" tty"
        let outcome = try shell("script -qec '\(command.replacingOccurrences(of: "$1", with: Paths.tender).replacingOccurrences(of: "$2", with: try Paths.guest("process")))' /dev/null", guest: "process")
        #expect(outcome.status == 0, "\(outcome)")
        let lines = outcome.stdout.replacingOccurrences(of: "\r", with: "")
        #expect(lines.contains("fd 0 isatty 1 chr\nfd 1 isatty 1 chr\nfd 2 isatty 1 chr\n"), "\(outcome)")
    }

    @Test("the guest's stderr goes to the host's stderr, stdout to stdout; 2>/dev/null hides it")
    func stderrSeparated() throws {
        let outcome = try nablaRun([try Paths.guest("process"), "streams"])
        #expect(outcome.status == 0, "\(outcome)")
        #expect(outcome.stdout == "to stdout\n", "\(outcome)")
        #expect(outcome.stderr == "to stderr\n", "\(outcome)")
        let hidden = try shell("\"$1\" \"$2\" streams 2>/dev/null", guest: "process")
        #expect(hidden.stdout == "to stdout\n" && hidden.stderr.isEmpty, "\(hidden)")
    }

    @Test("a large stderr write arrives whole and in order (512-byte pieces through the diagnostic buffer)")
    func largeStderr() throws {
        try withTemporaryDirectory { dir in
            let input = dir + "/in.bin", output = dir + "/err.bin"
            let data = binaryBytes(100_000)
            try data.write(to: URL(fileURLWithPath: input))
            let outcome = try shell("\"$1\" \"$2\" stderr < \"$3\" 2> \"$4\"", guest: "cat", [input, output])
            #expect(outcome.status == 0, "\(outcome)")
            #expect(outcome.stdout.isEmpty, "\(outcome)")
            let copied = try Data(contentsOf: URL(fileURLWithPath: output))
            let same = copied == data
            #expect(same, "\(copied.count) bytes on stderr of \(data.count), \(same ? "the same" : "not the same")")
        }
    }

    @Test("--trace shows stdinread and stderrwrite")
    func trace() throws {
        let outcome = try shell("echo hi | \"$1\" --trace \"$2\" streams 2>&1 >/dev/null", guest: "process")
        #expect(outcome.stdout.contains("to stderr\nnabla-run: hypercall stderrwrite(buf=0x"), "\(outcome)")
        let read = try shell("echo hi | \"$1\" --trace \"$2\" 2>&1 >/dev/null", guest: "cat")
        #expect(read.stdout.contains("nabla-run: hypercall stdinread(buf=0x"), "\(read)")
        #expect(read.stdout.contains(", len=65536) = 3\n"), "\(read)")
        #expect(read.stdout.contains(", len=65536) = 0\n"), "\(read)")
    }
}

@Suite("Entropy, clocks, identity and environment")
struct ProcessIdentityTests {
    @Test("two runs give different random bytes from arc4random_buf, getentropy and getrandom")
    func freshRandomness() throws {
        let guest = try Paths.guest("process")
        let first = try nablaRun([guest, "random"]), second = try nablaRun([guest, "random"])
        #expect(first.status == 0 && second.status == 0, "\(first)\n\(second)")
        for label in ["arc4random_buf", "getentropy", "getrandom"] {
            let a = try #require(field(label, in: first.stdout)), b = try #require(field(label, in: second.stdout))
            #expect(a.count == 64 && a != b, "\(label): \(a) and \(b)")
            #expect(a != String(repeating: "0", count: 64))
        }
        // Within one run the three differ too: one generator, never repeating.
        #expect(Set(["arc4random_buf", "getentropy", "getrandom"].compactMap { field($0, in: first.stdout) }).count == 3)
        #expect(field("getentropy(257)", in: first.stdout) == "-1 I/O error", "\(first)")
        // The generator is ChaCha20 (RFC 8439) keyed with the boot info's
        // entropy: its first refill is the keystream's first 512 bytes, of
        // which 0-31 become the next key, 32-39 the stack guard, and 40-71
        // the guest's first arc4random_buf. OpenSSL computes the same.
        let key = try #require(field("entropy", in: first.stdout))
        let stream = try run("/bin/sh", ["-c", "head -c 72 /dev/zero | openssl enc -chacha20 -K \"$0\" -iv 00000000000000000000000000000000 | od -An -v -tx1 | tr -d ' \\n'", key])
        #expect(stream.status == 0 && String(stream.stdout.dropFirst(80)) == field("arc4random_buf", in: first.stdout), "\(stream)")
        // srand(time ^ getpid()): the pid differs per run, so the seeds do.
        #expect(field("rand", in: first.stdout) != field("rand", in: second.stdout), "\(first)\n\(second)")
    }

    @Test("clock(), CLOCK_PROCESS_CPUTIME_ID and getrusage count CPU time from the start of the run")
    func cpuClocks() throws {
        let outcome = try nablaRun([try Paths.guest("process"), "clock"])
        #expect(outcome.status == 0, "\(outcome)")
        let start = try #require(outcome.stdout.split(separator: "\n").first { $0.hasPrefix("start ") }).description
        let after = try #require(outcome.stdout.split(separator: "\n").first { $0.hasPrefix("after ") }).description
        let clock0 = try #require(number("clock", in: start)), clock1 = try #require(number("clock", in: after))
        let cpu0 = try #require(number("cputime_ns", in: start)), cpu1 = try #require(number("cputime_ns", in: after))
        let usage0 = try #require(number("rusage_us", in: start)), usage1 = try #require(number("rusage_us", in: after))
        // At start: well under 100 ms of CPU (the tender's start-up), in each unit.
        #expect(clock0 < 100 && cpu0 < 100_000_000 && usage0 < 100_000, "\(start)")
        // 200 ms of computing (less CPU under a loaded host) moves all three.
        #expect(cpu1 >= cpu0 + 10_000_000, "\(after)")
        #expect(clock1 > clock0 && usage1 > usage0, "\(after)")
        #expect(outcome.stdout.contains("clocks_per_sec=1000 clk_tck=1000\n"), "\(outcome)")
    }

    @Test("getpid is the tender's process id; uid and gid are its own; uname and sysconf answer")
    func identity() throws {
        let outcome = try shell("echo $$; exec \"$1\" \"$2\" identity", guest: "process")
        #expect(outcome.status == 0, "\(outcome)")
        let lines = outcome.stdout.split(separator: "\n").map(String.init)
        let pid = try #require(lines.first)
        #expect(lines.contains("pid \(pid) uid \(getuid()) gid \(getgid()) euid \(getuid()) egid \(getgid())"), "\(outcome)")
        #expect(lines.contains("uname nabla 3 nabla ABI 3 x86_64"), "\(outcome)")
        #expect(lines.contains("sysconf pagesize 4096 clk_tck 1000 nprocessors 1 open_max 1024"), "\(outcome)")
    }

    @Test("getenv sees --env, in order, values with '=' and empty ones; no --env is an empty environment")
    func environment() throws {
        let guest = try Paths.guest("process")
        let outcome = try nablaRun(["--env", "A=1", "--env=B=x=y", "--env", "EMPTY=", guest, "env", "A", "B", "EMPTY", "HOME"])
        #expect(outcome.status == 0, "\(outcome)")
        #expect(outcome.stdout == "A 1\nB x=y\nEMPTY \nHOME (unset)\n", "\(outcome)")
        let all = try nablaRun(["--env", "A=1", "--env", "B=2", guest, "env"])
        #expect(all.stdout == "A=1\nB=2\n", "\(all)")
        let none = try nablaRun([guest, "env"])
        #expect(none.status == 0 && none.stdout.isEmpty, "\(none)")
        let bad = try nablaRun(["--env", "NOEQUALS", guest, "env"])
        #expect(bad.status == ExitStatus.usage, "\(bad)")
        #expect(bad.stderr.hasPrefix("nabla-run: ") && bad.stderr.split(separator: "\n").count == 1, "\(bad)")
        #expect(bad.stderr.contains("'NOEQUALS' is not KEY=VALUE: give a variable such as --env LANG=C.UTF-8"), "\(bad)")
    }
}
