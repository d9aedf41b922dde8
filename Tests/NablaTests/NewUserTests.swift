// NewUserTests.swift: what a new user tripped over, each now one clear line
// and a documented status (issue "One home per concept ... and what a new
// user tripped over").

import CNablaTender
import Foundation
import Testing
@testable import Nabla

@Suite("What a new user met")
struct NewUserTests {
    @Test("--policy accepts an image, validates it, and prints that image's policy")
    func policyWithImage() throws {
        let outcome = try nablaRun(["--policy", try Paths.guest("hello")])
        #expect(outcome.status == 0, "\(outcome)")
        #expect(outcome.stdout.hasPrefix("seccomp policy for the guest phase: 6 rules over 5 of the 7 guest system calls\n"))
        expectOneLineError(try nablaRun(["--policy", "/etc/hostname"]), status: ExitStatus.badImage, containing: "not an ELF file")
    }

    @Test("a FIFO as the image is refused at once, not waited on")
    func fifoImage() throws {
        try withTemporaryDirectory { dir in
            let fifo = dir + "/app.nabla"
            #expect(mkfifo(fifo, 0o600) == 0)
            let outcome = try nablaRun([fifo], timeout: 5)
            expectOneLineError(outcome, status: ExitStatus.noInput, containing: "\(fifo) is not a regular file")
        }
    }

    @Test("a read-only disk of a bad size is never told to be resized")
    func readOnlyDiskSize() throws {
        try withTemporaryDirectory { dir in
            let disk = dir + "/odd.img"
            try Data([1, 2, 3]).write(to: URL(fileURLWithPath: disk))
            let outcome = try nablaRun(["--disk-readonly", disk, try Paths.guest("hello")])
            expectOneLineError(outcome, status: ExitStatus.badImage, containing: "a read-only disk is used as it is")
            #expect(!outcome.stderr.contains("truncate"))
            let writable = try nablaRun(["--disk", disk, try Paths.guest("hello")])
            expectOneLineError(writable, status: ExitStatus.badImage, containing: "truncate -s 512 \(disk)")
        }
    }

    @Test("a device name that breaks the naming rule is refused with the rule, not read as part of the path",
          arguments: ["my disk", String(repeating: "n", count: 32), "dísk"])
    func badDiskName(name: String) throws {
        try withTemporaryDirectory { dir in
            let disk = try makeDisk(in: dir, size: 4096)
            let outcome = try nablaRun(["--disk", "\(name)=\(disk)", try Paths.guest("hello")])
            expectOneLineError(outcome, status: ExitStatus.usage, containing: "'\(name)' is not a device name: use 1 to 31 of A-Z a-z 0-9 . _ -")
        }
    }

    @Test("a path with a slash before '=' is still a path")
    func pathWithEquals() throws {
        try withTemporaryDirectory { dir in
            let disk = try makeDisk(in: dir, name: "a=b.img", size: 4096)
            let outcome = try nablaRun(["--policy", "--disk", disk])
            #expect(outcome.status == 0, "\(outcome)")
            #expect(outcome.stdout.contains("[disk disk (\(disk))]"))
        }
    }

    @Test("--audit-out to a path that cannot be written fails before the guest runs")
    func unwritableAuditOut() throws {
        let outcome = try nablaRun(["--audit", "--audit-out", "/nonexistent/dir/report.json", try Paths.guest("hello")])
        expectOneLineError(outcome, status: ExitStatus.osError, containing: "cannot write /nonexistent/dir/report.json")
    }

    @Test("--audit-native with an absolute path that does not exist says so, not 'not on PATH'")
    func auditNativeMissing() throws {
        let outcome = try nablaRun(["--audit-native", "--", "/nonexistent/tool"])
        expectOneLineError(outcome, status: ExitStatus.osError, containing: "cannot run '/nonexistent/tool': no such executable file")
    }

    @Test("--gdb and --audit on an image that cannot run fail as a plain run does: one line, its status, no gdb, no report",
          arguments: ["--gdb", "--audit"])
    func modesCheckFirst(_ mode: String) throws {
        try withTemporaryDirectory { dir in
            let notELF = dir + "/bad.nabla"
            try "not an image\n".write(toFile: notELF, atomically: true, encoding: .utf8)
            let cases: [([String], Int32, String)] = [
                ([dir + "/missing.nabla"], ExitStatus.noInput, "cannot open \(dir)/missing.nabla"),
                ([notELF], ExitStatus.badImage, "not an ELF file"),
                (["--mem", "1M", try Paths.guest("hello")], ExitStatus.badImage, "--mem 1M is too small"),
                (["--disk", dir + "/nodisk.img", try Paths.guest("hello")], ExitStatus.noInput, "nodisk.img"),
            ]
            for (arguments, status, message) in cases {
                let outcome = try nablaRun([mode] + arguments, timeout: 10)
                expectOneLineError(outcome, status: status, containing: message)
                #expect(!outcome.stderr.contains("gdb -q") && !outcome.stderr.contains("verdict"), "\(outcome)")
            }
        }
    }

    @Test("a Swift guest's failed runtime check is named as one, with the function it failed in",
          arguments: [("index", "element"), ("overflow", "sum"), ("unwrap", "unwrapped")])
    func swiftTrap(_ mode: String, _ function: String) throws {
        let outcome = try nablaRun([try Paths.guest("trap-swift"), mode])
        expectOneLineError(outcome, status: 132, containing: "guest fault: SIGILL (illegal instruction) at pc 0x")
        #expect(outcome.stderr.contains(" in $e10trap_swift\(function.count)\(function)"), "\(outcome.stderr)")
        #expect(outcome.stderr.contains("(ud2: a failed runtime check in Swift"), "\(outcome.stderr)")
    }

    @Test("an audit whose tender stopped before its filter says that nothing ran")
    func auditNothingRan() {
        var report = AuditReport(subject: ["app.nabla"], isGuest: true)
        report.exit = .status(65)
        #expect(report.text.contains("guest phase: none (the guest never ran)"), "\(report.text)")
        #expect(!report.text.contains("hypercalls"), "\(report.text)")
        #expect(report.verdict.hasPrefix("nothing ran"))
        #expect(report.json.contains("\"guest_ran\":false"))
        report.guestRan = true
        #expect(report.verdict == "the guest exited with status 65 (no trap, no timeout)")
    }

    @Test("a negative --mem or --timeout is a bad value, not a missing one",
          arguments: [(["--mem", "-5M"], "'-5M' is not a size"), (["--timeout", "-1"], "'-1' is not a timeout"),
                      (["--timeout", "-0.5"], "'-0.5' is not a timeout")])
    func negativeValues(_ options: [String], _ message: String) throws {
        let outcome = try nablaRun(options + [try Paths.guest("hello")])
        expectOneLineError(outcome, status: ExitStatus.usage, containing: message)
        #expect(!outcome.stderr.contains("Missing value"))
    }

    @Test("--help names every exit status, --mem's default and maximum")
    func helpStatuses() throws {
        let help = try nablaRun(["--help"]).stdout.replacingOccurrences(of: "\n", with: " ")
            .split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
        for fragment in ["64 for a bad command line", "124 when --timeout expires", "128+N when the guest faults",
                         "159 when the guest makes a forbidden system call", "69 also when a TAP interface",
                         "a bare number is MiB", "default 64M for a nabla image, 512M for a Solo5 image; at most 64G"] {
            #expect(help.contains(fragment), "--help lacks '\(fragment)'")
        }
    }
}

/// The status numbers in the markdown table under `heading` in `file`
/// (from the first column, and from parentheses such as "(139 SIGSEGV)").
private func statusesInTable(_ file: String, under heading: String) throws -> Set<Int32> {
    let text = try String(contentsOfFile: Paths.packageRoot.path + "/" + file, encoding: .utf8)
    guard let start = text.range(of: heading) else { throw HarnessError("no '\(heading)' in \(file)") }
    let rows = text[start.upperBound...].split(separator: "\n").drop { !$0.hasPrefix("|") }.prefix { $0.hasPrefix("|") }
    var statuses: Set<Int32> = []
    for row in rows.dropFirst(2) {
        let first = row.split(separator: "|").first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
        guard first != "0–255" else { continue }
        let candidates = first == "128 + N" ? String(row) : first
        for word in candidates.split(whereSeparator: { !$0.isNumber }) {
            if let value = Int32(word), value >= 64, value != 128 { statuses.insert(value) }
        }
    }
    return statuses
}

@Suite("Exit-status tables")
struct ExitStatusTableTests {
    @Test("the README's and security.md's tables list exactly the statuses of ExitStatus",
          arguments: [("README.md", "### Exit status"), ("docs/security.md", "## Exit statuses")])
    func tables(_ file: String, _ heading: String) throws {
        #expect(try statusesInTable(file, under: heading) == Set(ExitStatus.all), "\(file)")
    }

    @Test("--help names every status of ExitStatus")
    func help() throws {
        let help = try nablaRun(["--help"]).stdout
        for status in ExitStatus.all {
            #expect(help.contains(String(status)), "--help does not mention \(status)")
        }
    }
}

@Suite("Shell completion")
struct CompletionTests {
    @Test("the bash, zsh and fish scripts are generated, and --disk, --disk-readonly and --audit-out complete file paths",
          arguments: ["bash", "zsh", "fish"])
    func scripts(_ shell: String) throws {
        let outcome = try nablaRun(["--generate-completion-script", shell])
        #expect(outcome.status == 0, "\(outcome.stderr)")
        #expect(outcome.stdout.contains("--disk-readonly"))
        if shell == "bash" {
            for option in ["--disk", "--disk-readonly", "--audit-out"] {
                #expect(outcome.stdout.contains("'\(option)')\n        __nabla-run_add_completions -f\n"), "\(option) does not complete files")
            }
        }
    }
}

@Suite("README samples")
struct ReadmeSampleTests {
    /// The lines of the code block in the README that starts with `command`.
    private func sample(startingWith command: String) throws -> [String] {
        let readme = try String(contentsOfFile: Paths.packageRoot.path + "/README.md", encoding: .utf8)
        guard let start = readme.range(of: "```\n" + command + "\n") else { throw HarnessError("no sample '\(command)' in README.md") }
        guard let end = readme[start.upperBound...].range(of: "```") else { throw HarnessError("unterminated sample") }
        return readme[start.upperBound..<end.lowerBound].split(separator: "\n").map(String.init)
    }

    /// Addresses and clock readings vary with the build and the moment.
    private func normalised(_ line: String) -> String {
        line.replacing(/0x[0-9a-f]+/, with: "ADDR").replacing(/walltime\(clock=(\d)\) = \d+/) { "walltime(clock=\($0.1)) = NS" }
    }

    @Test("the --trace sample is what nabla-run --trace prints for hello, line for line")
    func trace() throws {
        let lines = try sample(startingWith: "$ .build/release/nabla-run --trace .build/guests/hello.nabla")
        let outcome = try nablaRun(["--trace", try Paths.guest("hello")])
        #expect(outcome.status == 0)
        // The tender's lines on stderr, the guest's on stdout, each in order.
        let tender = lines.filter { $0.hasPrefix("nabla-run: ") }, guest = lines.filter { !$0.hasPrefix("nabla-run: ") }
        #expect(tender.map(normalised) == outcome.stderr.split(separator: "\n").map { normalised(String($0)) })
        #expect(guest == outcome.stdout.split(separator: "\n").map(String.init))
    }
}

@Suite("guests/README samples")
struct GuestReadmeSampleTests {
    @Test("guests/README quotes hello-swift/hello.swift as it is")
    func helloSwift() throws {
        let root = Paths.packageRoot.path
        let readme = try String(contentsOfFile: root + "/guests/README.md", encoding: .utf8)
        let marker = "`hello-swift/hello.swift` is the whole recipe:\n\n```swift\n"
        let start = try #require(readme.range(of: marker), "guests/README.md no longer quotes hello.swift")
        let end = try #require(readme[start.upperBound...].range(of: "```\n"))
        let file = try String(contentsOfFile: root + "/guests/hello-swift/hello.swift", encoding: .utf8)
        #expect(String(readme[start.upperBound..<end.lowerBound]) == file)
    }
}

@Suite("nabla-run and nabla-run-cli")
struct LeanTenderTests {
    @Test("nabla-run alone runs guests; any other command line says it needs nabla-run-cli beside it (69)")
    func alone() throws {
        try withTemporaryDirectory { dir in
            let lonely = dir + "/nabla-run"
            #expect(try run("/bin/cp", [Paths.tender, lonely]).status == 0)
            let hello = try run(lonely, [try Paths.guest("hello")])
            #expect(hello.status == 0 && hello.stdout == "Hello from a nabla guest!\n", "\(hello)")
            for arguments in [["--help"], ["--version"], ["--inspect", try Paths.guest("hello")], ["--bogus", "x"]] {
                expectOneLineError(try run(lonely, arguments), status: ExitStatus.unavailable,
                                   containing: "needs nabla-run-cli, which is not installed beside nabla-run")
            }
        }
    }

    @Test("nabla-run (Embedded Swift, its own number parser) takes and refuses --timeout values as nabla-run-cli does")
    func timeoutValues() throws {
        let hello = try Paths.guest("hello")
        // Hex and exponent forms, signs, white space, non-finite values,
        // underscores and limits: the lean parser either takes a value, or
        // leaves the command line to nabla-run-cli, which says what is wrong.
        for value in ["1", "0.5", "1e0", "0x1p-1", "+2", "0.001", "31536000", " 1", "1 ", "", "inf", "nan", "1_0",
                      "0.0009", "31536001", "-1", "1e999", "0x"] {
            let lean = try nablaRun(["--timeout", value, hello])
            let full = try run(Paths.tender + "-cli", ["--timeout", value, hello])
            #expect(lean.status == full.status && lean.stdout == full.stdout, "--timeout '\(value)': \(lean) / \(full)")
            #expect(lean.stderr == full.stderr, "--timeout '\(value)'")
        }
    }

    @Test("errors are named with glibc's texts in both binaries, nabla-run on musl included")
    func errorTexts() throws {
        // The table (tender/error_texts.c) is this machine's glibc's.
        for code in Int32(0)...133 {
            let text = String(cString: strerror(code))
            #expect(Errno(rawValue: code).description == text, "errno \(code)")
        }
        // nabla-run, linked against musl (whose text is "Out of memory"),
        // out of address space for guest memory.
        let outcome = try run("/bin/sh", ["-c", "ulimit -v 40000 && exec \"$0\" \"$1\"", Paths.tender, try Paths.guest("hello")])
        #expect(outcome.status == ExitStatus.osError, "\(outcome)")
        #expect(outcome.stderr.hasSuffix(": Cannot allocate memory\n"), "\(outcome)")
    }

    @Test("--policy is answered by the nabla-run that runs guests, whose addresses the filter pins, from either binary")
    func policyAddresses() throws {
        // The tender is a static PIE: its addresses change from run to run.
        let normalised = { (text: String) in text.replacing(/0x[0-9a-f]{5,}/, with: "ADDR") }
        let lean = try nablaRun(["--policy"]), cli = try run(Paths.tender + "-cli", ["--policy"])
        #expect(lean.status == 0 && cli.status == 0)
        #expect(normalised(lean.stdout) == normalised(cli.stdout))
        // nabla-run-cli hands --policy to the nabla-run beside it.
        let traced = try run("/usr/bin/strace", ["-f", "-qq", "-e", "trace=execve", Paths.tender + "-cli", "--policy"])
        let tender = URL(fileURLWithPath: Paths.tender).resolvingSymlinksInPath().path
        #expect(traced.stderr.contains("execve(\"\(tender)\", [\"nabla-run\", \"--policy\""), "\(traced.stderr)")
    }

    @Test("nabla-run is Embedded Swift: no Swift runtime, ArgumentParser or Foundation")
    func lean() throws {
        let symbols = try run("/usr/bin/nm", [Paths.tender]).stdout
        #expect(symbols.contains("nabla_hypercall_puts_handler"), "nm found no symbols in \(Paths.tender)")
        #expect(!symbols.contains("ArgumentParser"), "ArgumentParser is linked into nabla-run")
        #expect(!symbols.contains("FoundationEssentials"), "Foundation is linked into nabla-run")
        // The full runtime's metadata and conformance machinery, which an
        // Embedded Swift build has no use for (docs/architecture.md).
        for runtime in ["swift_conformsToProtocol", "swift_getGenericMetadata", "swift_dynamicCast"] {
            #expect(!symbols.contains(runtime), "the Swift runtime (\(runtime)) is linked into nabla-run")
        }
    }
}
