// nabla-test, the test-guest runner, and the C test API (nabla_test.h)
// whose TAP lines it reads: verdicts for passing, failing, skipped,
// hanging, faulting and forbidden-syscall guests, parallelism, private
// disk copies, TAP and JUnit output, and bad command lines.

import Foundation
import Testing

@Suite("nabla-test and the C test API")
struct NablaTestRunnerTests {
    @Test("passing guests: one line each, the summary, exit 0")
    func allPass() throws {
        let outcome = try nablaTest([try Paths.guest("test-pass"), try Paths.guest("hello")])
        #expect(outcome.status == 0, "\(outcome)")
        #expect(outcome.stdout.contains("PASS  test-pass  ("), "\(outcome)")
        #expect(outcome.stdout.contains("PASS  hello  ("), "\(outcome)")
        #expect(outcome.stdout.hasSuffix("2 passed, 0 failed\n"), "\(outcome)")
    }

    @Test("a failing guest fails the run and its output is shown, with file and line")
    func failing() throws {
        let outcome = try nablaTest([try Paths.guest("test-pass"), try Paths.guest("test-fail"), try Paths.guest("test-skip")])
        #expect(outcome.status == 1, "\(outcome)")
        #expect(outcome.stdout.contains("FAIL  test-fail  (exit status 1, "), "\(outcome)")
        #expect(outcome.stdout.contains("| # test-fail/test-fail.c:14: CHECK_EQ(2 + 2, 5) failed: 4 != 5"), "\(outcome)")
        #expect(outcome.stdout.contains("SKIP  test-skip  (no disk attached, "), "\(outcome)")
        #expect(outcome.stdout.hasSuffix("1 passed, 1 failed, 1 skipped\n"), "\(outcome)")
    }

    @Test("--env reaches every guest's environment")
    func environment() throws {
        let guest = try Paths.guest("process")
        let with = try nablaTest(["--env", "COLOUR=blue", guest, "--", "expect-env", "COLOUR", "blue"])
        #expect(with.status == 0, "\(with)")
        #expect(with.stdout.contains("PASS  process  ("), "\(with)")
        let without = try nablaTest([guest, "--", "expect-env", "COLOUR", "blue"])
        #expect(without.status == 1, "\(without)")
        #expect(without.stdout.contains("| COLOUR is (unset)"), "\(without)")
    }

    @Test("a guest that exits 77 is skipped, and skips alone do not fail the run")
    func skipped() throws {
        let outcome = try nablaTest([try Paths.guest("test-skip")])
        #expect(outcome.status == 0, "\(outcome)")
        #expect(outcome.stdout.hasSuffix("0 passed, 0 failed, 1 skipped\n"), "\(outcome)")
    }

    @Test("a hanging guest is stopped at the timeout and fails with the reason")
    func hanging() throws {
        let start = Date()
        let outcome = try nablaTest(["--timeout", "0.5", try Paths.guest("attack-spin"), try Paths.guest("hello")])
        #expect(Date().timeIntervalSince(start) < 10)
        #expect(outcome.status == 1, "\(outcome)")
        #expect(outcome.stdout.contains("FAIL  attack-spin  (timed out after 0.5 s, "), "\(outcome)")
        #expect(outcome.stdout.hasSuffix("1 passed, 1 failed\n"), "\(outcome)")
    }

    @Test("a faulting guest fails with the tender's fault line")
    func faulting() throws {
        let outcome = try nablaTest([try Paths.guest("attack-fault"), "--", "null"])
        #expect(outcome.status == 1, "\(outcome)")
        #expect(outcome.stdout.contains("FAIL  attack-fault  (faulted (status 139): guest fault: SIGSEGV"), "\(outcome)")
    }

    @Test("a guest making a forbidden system call fails, named as such")
    func forbiddenSyscall() throws {
        let outcome = try nablaTest([try Paths.guest("forbidden"), "--", "257"])
        #expect(outcome.status == 1, "\(outcome)")
        #expect(outcome.stdout.contains("FAIL  forbidden  (forbidden system call: guest made a forbidden system call: openat (257)"), "\(outcome)")
    }

    @Test("exit 0 with a 'not ok' or 'Bail out!' line is still a failure")
    func notOkWithZeroStatus() throws {
        let outcome = try run(Paths.testRunner, ["--native", "/bin/echo", "--", "not ok 1 - sneaky"])
        #expect(outcome.status == 1, "\(outcome)")
        #expect(outcome.stdout.contains("but 1 test case failed"), "\(outcome)")
        let bail = try run(Paths.testRunner, ["--native", "/bin/echo", "--", "Bail out! no network"])
        #expect(bail.status == 1, "\(bail)")
        #expect(bail.stdout.contains("but 1 test case failed: bail out"), "\(bail)")
    }

    @Test("TAP after the first MiB still counts: a 'not ok' or a plan behind 2 MiB of output fails the guest",
          arguments: [("late-failure", "exit status 0, but 1 test case failed: after"),
                      ("late-plan", "planned 3 test cases, reported 1")])
    func lateTAP(_ mode: String, _ reason: String) throws {
        let outcome = try nablaTest([try Paths.guest("test-misreport"), "--", mode])
        #expect(outcome.status == 1, "\(outcome.stdout.prefix(300))")
        #expect(outcome.stdout.hasPrefix("FAIL  test-misreport  (\(reason), "), "\(outcome.stdout.prefix(300))")
        // What is shown of the output stays bounded.
        #expect(outcome.stdout.utf8.count < 2 << 20, "\(outcome.stdout.utf8.count) bytes")
    }

    @Test("a guest that returns 124 at once fails with that status, not as timed out")
    func status124() throws {
        let outcome = try nablaTest(["--timeout", "30", try Paths.guest("test-misreport"), "--", "status-124"])
        #expect(outcome.status == 1, "\(outcome)")
        #expect(outcome.stdout.hasPrefix("FAIL  test-misreport  (exit status 124, "), "\(outcome)")
    }

    @Test("on a terminal a guest's escape sequences are shown escaped and cannot redraw its FAIL line as PASS; into a pipe they pass as printed")
    func escapesOnTerminal() throws {
        let guest = try Paths.guest("test-misreport")
        // script(1) (util-linux's bsdutils, essential in Debian) runs nabla-test on a pseudo-terminal.
        let command = [Paths.testRunner, "--nabla-run", Paths.tender, guest, "--", "redraw"]
            .map { "'" + $0 + "'" }.joined(separator: " ")
        let terminal = try run("/usr/bin/script", ["-qec", command, "/dev/null"])
        #expect(terminal.status == 1, "\(terminal)")
        #expect(!terminal.stdout.contains("\u{1B}"), "an escape character reached the terminal: \(terminal.stdout.debugDescription)")
        #expect(terminal.stdout.contains("      | \\x1B[2A\\x0D\\x1B[2KPASS  test-misreport  (0.1 ms)\\x1B[K"),
                "\(terminal.stdout.debugDescription)")
        #expect(terminal.stdout.contains("FAIL  test-misreport  (exit status 1, "), "\(terminal.stdout.debugDescription)")
        let piped = try nablaTest([guest, "--", "redraw"])
        #expect(piped.stdout.contains("      | \u{1B}[2A\r\u{1B}[2KPASS"), "\(piped.stdout.debugDescription)")
    }

    @Test("-j runs guests at the same time")
    func parallel() throws {
        let spin = try Paths.guest("attack-spin")
        let start = Date()
        let outcome = try nablaTest(["-j", "4", "--timeout", "1", spin, spin, spin, spin])
        let elapsed = Date().timeIntervalSince(start)
        #expect(outcome.stdout.hasSuffix("0 passed, 4 failed\n"), "\(outcome)")
        // One at a time they would take 4 s.
        #expect(elapsed < 3, "took \(elapsed) s")
    }

    @Test("each guest writes its own copy of a --disk; the original is untouched")
    func diskCopies() throws {
        let kvlog = try Paths.guest("kvlog")
        try withTemporaryDirectory { dir in
            let disk = try makeDisk(in: dir, size: 1 << 20)
            let before = try fileBytes(disk)
            let outcome = try nablaTest(["-j", "4", "--disk", disk, kvlog, kvlog, kvlog, kvlog, "--", "put", "colour", "blue"])
            // With one shared disk three of them would fail: it is locked.
            #expect(outcome.status == 0, "\(outcome)")
            #expect(outcome.stdout.hasSuffix("4 passed, 0 failed\n"), "\(outcome)")
            #expect(try fileBytes(disk) == before)
            // A copy keeps the disk's name: test-skip runs its test only
            // when a disk named "disk" is attached.
            let named = try nablaTest(["--disk", "disk=\(disk)", try Paths.guest("test-skip")])
            #expect(named.stdout.hasSuffix("1 passed, 0 failed\n"), "\(named)")
            let other = try nablaTest(["--disk", "other=\(disk)", try Paths.guest("test-skip")])
            #expect(other.stdout.hasSuffix("0 passed, 0 failed, 1 skipped\n"), "\(other)")
        }
    }

    @Test("SIGTERM stops the guests, removes the disk copies and says how far it got")
    func interrupted() throws {
        try withTemporaryDirectory { dir in
            let disk = try makeDisk(in: dir, size: 1 << 16)
            let scratch = dir + "/tmp"
            try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
            let spin = try Paths.guest("attack-spin")
            let child = try Child("/bin/sh", ["-c", "TMPDIR=\"$0\" exec \"$@\"", scratch, Paths.testRunner,
                                              "--nabla-run", Paths.tender, "-j", "2", "--disk", disk, spin, spin, spin],
                                  stdout: dir + "/out", stderr: dir + "/err")
            // Both spinners running, each with its copy of the disk.
            let deadline = Date().addingTimeInterval(10)
            while Date() < deadline, (try? FileManager.default.subpathsOfDirectory(atPath: scratch))?.count ?? 0 < 3 {
                usleep(10_000)
            }
            kill(child.pid, SIGTERM)
            let status = child.wait(timeout: 10)
            #expect(status == 128 + SIGTERM)
            let err = try String(contentsOfFile: dir + "/err", encoding: .utf8)
            #expect(err == "nabla-test: interrupted by signal 15 after 0 of 3 guests: 0 passed, 0 failed\n")
            #expect(try FileManager.default.contentsOfDirectory(atPath: scratch).isEmpty, "disk copies left behind")
        }
    }

    @Test("--tap prints TAP version 13 with one line per guest")
    func tapOutput() throws {
        let outcome = try nablaTest(["-j", "1", "--tap", try Paths.guest("test-pass"), try Paths.guest("test-fail"), try Paths.guest("test-skip")])
        #expect(outcome.status == 1)
        let lines = outcome.stdout.split(separator: "\n")
        #expect(lines.prefix(2) == ["TAP version 13", "1..3"], "\(outcome)")
        #expect(lines.contains { $0.hasPrefix("ok 1 - test-pass # time=") }, "\(outcome)")
        #expect(lines.contains("not ok 2 - test-fail"), "\(outcome)")
        #expect(lines.contains("ok 3 - test-skip # SKIP no disk attached"), "\(outcome)")
        #expect(lines.last == "# 1 passed, 1 failed, 1 skipped")
    }

    @Test("--junit writes valid JUnit XML with a test case per guest and per TAP case",
          .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/xmllint"),
                   "needs xmllint (Debian libxml2-utils; tools/install-deps installs it)"))
    func junit() throws {
        try withTemporaryDirectory { dir in
            let xml = dir + "/report.xml"
            let outcome = try nablaTest(["--junit", xml, try Paths.guest("test-pass"), try Paths.guest("test-fail"),
                                         try Paths.guest("test-skip"), try Paths.guest("hello")])
            #expect(outcome.status == 1, "\(outcome)")
            let lint = try run("/usr/bin/xmllint", ["--noout", xml])
            #expect(lint.status == 0, "\(lint)")
            let text = try String(contentsOfFile: xml, encoding: .utf8)
            let count = { (needle: String) in text.components(separatedBy: needle).count - 1 }
            // Guests: test-pass (3 cases), test-fail (3), test-skip (1), hello (0).
            #expect(count("<testcase ") == 4 + 3 + 3 + 1, "\(text)")
            #expect(count("<testsuite ") == 4, "\(text)")
            // test-fail itself and two of its cases.
            #expect(count("<failure ") == 3, "\(text)")
            // test-skip itself and its case.
            #expect(count("<skipped ") == 2, "\(text)")
            #expect(text.contains("name=\"check_goes_on\""), "\(text)")
            #expect(text.contains("test-fail/test-fail.c:14: CHECK_EQ(2 + 2, 5) failed: 4 != 5"), "\(text)")
            #expect(text.contains("<testsuites name=\"nabla-test\" tests=\"4\" failures=\"1\" skipped=\"1\""), "\(text)")
        }
    }

    @Test("JUnit XML escapes what a guest prints, control characters included",
          .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/xmllint"),
                   "needs xmllint (Debian libxml2-utils; tools/install-deps installs it)"))
    func junitEscaping() throws {
        try withTemporaryDirectory { dir in
            let xml = dir + "/report.xml"
            let outcome = try run(Paths.testRunner, ["--native", "--junit", xml, "/bin/echo", "--", "<&\"'\u{1}>"])
            #expect(outcome.status == 0, "\(outcome)")
            #expect(try run("/usr/bin/xmllint", ["--noout", xml]).status == 0)
            let text = try String(contentsOfFile: xml, encoding: .utf8)
            #expect(text.contains("<system-out>&lt;&amp;&quot;&apos;\u{FFFD}&gt;\n</system-out>"), "\(text)")
        }
    }

    @Test("--native runs programs without nabla-run, for baselines")
    func native() throws {
        let outcome = try run(Paths.testRunner, ["--native", "/bin/true", "/bin/false"])
        #expect(outcome.status == 1, "\(outcome)")
        #expect(outcome.stdout.hasSuffix("1 passed, 1 failed\n"), "\(outcome)")
    }

    @Test("bad command lines: one line, status 64; a missing guest: 66; no nabla-run: 69",
          arguments: [
            (["--jobs", "0", "x.nabla"], Int32(64), "is not a number of jobs"),
            (["--timeout", "soon", "x.nabla"], 64, "is not a timeout"),
            (["--net", "tap0", "x.nabla"], 64, "--net cannot be used with nabla-test"),
            (["--frobnicate", "x.nabla"], 64, "unknown option '--frobnicate'"),
            ([], 64, "no guests given"),
            (["/nonexistent/x.nabla"], 66, "cannot read /nonexistent/x.nabla"),
            (["--nabla-run", "/nonexistent/nabla-run", "/bin/true"], 69, "cannot run /nonexistent/nabla-run"),
          ])
    func badCommandLines(_ arguments: [String], _ status: Int32, _ message: String) throws {
        let outcome = try run(Paths.testRunner, arguments)
        #expect(outcome.status == status, "\(outcome)")
        #expect(outcome.stderr.hasPrefix("nabla-test: "), "\(outcome)")
        #expect(outcome.stderr.contains(message), "\(outcome)")
        #expect(outcome.stderr.split(separator: "\n").count == 1, "\(outcome)")
    }

    @Test("the Swift test API, over Swift's own types in a guest, passes; a disk runs its disk test")
    func swiftTestAPI() throws {
        let guest = try Paths.guest("test-swift")
        let outcome = try nablaTest(["--tap", guest, "--", "alpha", "beta"])
        #expect(outcome.status == 0, "\(outcome)")
        try withTemporaryDirectory { dir in
            let disk = try makeDisk(in: dir, size: 1 << 16)
            let direct = try nablaRun(["--disk", disk, guest, "alpha", "beta"])
            #expect(direct.status == 0, "\(direct)")
            for name in ["structs", "classes", "arrays and closures", "dictionaries", "strings", "generics",
                         "typed throws", "arguments", "clocks and sleeping", "block device"] {
                #expect(direct.stdout.contains(" - \(name)\n"), "\(name): \(direct)")
            }
            #expect(!direct.stdout.contains("not ok") && !direct.stdout.contains("SKIP"), "\(direct)")
            #expect(direct.stdout.hasSuffix("1..10\n"), "\(direct)")
        }
        // Wrong arguments: the arguments test fails, with file and line.
        let wrong = try nablaRun([guest])
        #expect(wrong.status == 1, "\(wrong)")
        #expect(wrong.stdout.contains("# test-swift/test-swift.swift:"), "\(wrong)")
        #expect(wrong.stdout.contains("not ok 8 - arguments"), "\(wrong)")
    }

    // MARK: The C test API, run directly

    @Test("CHECK_EQ reports file, line and both values, and the test goes on; REQUIRE stops it")
    func checkAndRequire() throws {
        let outcome = try nablaRun([try Paths.guest("test-fail")])
        #expect(outcome.status == 1, "\(outcome)")
        #expect(outcome.stdout == """
            TAP version 13
            1..3
            ok 1 - passes
            # test-fail/test-fail.c:14: CHECK_EQ(2 + 2, 5) failed: 4 != 5
            # after the failed CHECK_EQ
            not ok 2 - check_goes_on
            # test-fail/test-fail.c:20: REQUIRE(nabla_clock_monotonic() == 0) failed
            not ok 3 - require_stops

            """)
    }

    @Test("arguments select tests by name; an unknown name is status 64")
    func selection() throws {
        let one = try nablaRun([try Paths.guest("test-fail"), "passes"])
        #expect(one.status == 0, "\(one)")
        #expect(one.stdout == "TAP version 13\n1..1\nok 1 - passes\n")
        let unknown = try nablaRun([try Paths.guest("test-fail"), "nope"])
        #expect(unknown.status == 64, "\(unknown)")
        #expect(unknown.stdout == "no test named 'nope'\n")
    }

    @Test("a skipped test prints SKIP with the reason; all skipped is status 77")
    func skip() throws {
        let outcome = try nablaRun([try Paths.guest("test-skip")])
        #expect(outcome.status == 77, "\(outcome)")
        #expect(outcome.stdout == "TAP version 13\n1..1\nok 1 - needs_a_disk # SKIP no disk attached\n")
        try withTemporaryDirectory { dir in
            let disk = try makeDisk(in: dir, size: 4096)
            let attached = try nablaRun(["--disk", disk, try Paths.guest("test-skip")])
            #expect(attached.status == 0, "\(attached)")
            #expect(attached.stdout.hasSuffix("ok 1 - needs_a_disk\n"), "\(attached)")
        }
    }
}
