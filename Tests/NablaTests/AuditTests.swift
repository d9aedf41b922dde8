// --policy, --inspect and --audit: the syscall surface, shown and proved.

import CNablaTender
import Foundation
import NablaTestSupport
import Testing
@testable import Nabla

/// Replaces every hex address with ADDR, so rules from another process compare.
private func normalised(_ text: String) -> [String] {
    text.split(separator: "\n").map { $0.replacingOccurrences(of: #"0x[0-9a-f]{6,}"#, with: "ADDR", options: .regularExpression) }
}

private let baseRules = [
    "allow write (1) if fd == 1 [console]",
    "allow write (1) if fd == 2 [stderr] && buf == ADDR [tender diagnostic buffer] && count <= 512 [its size]",
    "allow read (0) if fd == 0 [stdin] && buf == ADDR [tender stdin buffer] && count <= 0x10000 [its size]",
    "allow clock_gettime (228) if clockid <= 2 [CLOCK_REALTIME, CLOCK_MONOTONIC or CLOCK_PROCESS_CPUTIME_ID]",
    "allow exit_group (231)",
]

@Suite("Policy and inspection")
struct PolicyInspectionTests {
    @Test("--policy with no device")
    func policyPlain() throws {
        let outcome = try nablaRun(["--policy"])
        #expect(outcome.status == 0, "\(outcome)")
        let lines = normalised(outcome.stdout)
        #expect(lines.first == "seccomp policy for the guest phase: 6 rules over 5 of the 7 guest system calls")
        #expect(Set(baseRules).isSubset(of: Set(lines)))
        #expect(lines.contains("allow ppoll (271) if fds == ADDR [tender pollfd array] && nfds == 0 && tmo == ADDR [tender timeout] && sigmask == 0 [no signal mask]"))
        #expect(lines.last == "default: trap: SIGSYS, reported on stderr, exit status 159")
    }

    @Test("--policy with disks pins each descriptor, pwrite64 only for writable ones")
    func policyDisks() throws {
        try withTemporaryDirectory { dir in
            let a = try makeDisk(in: dir, name: "a.img", size: 4096), b = try makeDisk(in: dir, name: "b.img", size: 4096)
            let outcome = try nablaRun(["--policy", "--disk", "data=" + a, "--disk-readonly", b])
            #expect(outcome.status == 0, "\(outcome)")
            let lines = normalised(outcome.stdout)
            // Four transfer sizes fit a 4096-byte disk: 512 B to 4 KiB.
            #expect(lines.first == "seccomp policy for the guest phase: 18 rules over 7 of the 7 guest system calls")
            #expect(lines.contains("allow pread64 (17) if fd == 3 [disk data (\(a))] && count == 512 && pos <= 3584 [capacity - 512]"))
            #expect(lines.contains("allow pwrite64 (18) if fd == 3 [disk data (\(a))] && count == 2048 && pos <= 2048 [capacity - 2048]"))
            #expect(lines.contains("allow pread64 (17) if fd == 4 [disk disk (\(b))] && count == 4096 && pos <= 0 [capacity - 4096]"))
            #expect(!lines.contains { $0.hasPrefix("allow pwrite64") && $0.contains("fd == 4") })
        }
    }

    @Test("--policy reports a device that cannot be attached, and needs no image")
    func policyErrors() throws {
        expectOneLineError(try nablaRun(["--policy", "--disk", "/nonexistent.img"]), status: ExitStatus.noInput,
                           containing: "cannot open disk /nonexistent.img")
        expectOneLineError(try nablaRun(["--policy", "/nonexistent.nabla"]), status: ExitStatus.noInput,
                           containing: "/nonexistent.nabla")
    }

    @Test("--inspect finds the raw syscall in forbidden and none in a minimal image")
    func inspect() throws {
        let forbidden = try nablaRun(["--inspect", try Paths.guest("forbidden")])
        #expect(forbidden.status == 0, "\(forbidden)")
        // Its own syscall, and (newlib) byte sequences inside other instructions.
        #expect(forbidden.stdout.contains("raw system-call instructions: "))
        #expect(!forbidden.stdout.contains("raw system-call instructions: none"))
        #expect(forbidden.stdout.contains("  syscall at 0x"))
        #expect(forbidden.stdout.contains("ABI version:    \(NABLA_ABI_VERSION)"))
        #expect(forbidden.stdout.contains("entry:          0x601"))
        #expect(forbidden.stdout.contains("[0] r-x 0x60100000-"))
        // Not hello: newlib's code has the bytes 0f 05 inside other
        // instructions' displacements, which the byte scan reports too.
        try withTemporaryDirectory { dir in
            let minimal = try nablaRun(["--inspect", try writeImage(ELFBuilder().build(), in: dir)])
            #expect(minimal.stdout.contains("raw system-call instructions: none"), "\(minimal)")
            #expect(minimal.stdout.contains("memory needed:"))
        }
        expectOneLineError(try nablaRun(["--inspect", "/bin/sh"]), status: ExitStatus.badImage, containing: "ET_DYN")
    }
}

@Suite("Audit")
struct AuditTests {
    @Test("--audit on hello: the guest phase uses only pinned calls, including write and exit_group")
    func hello() throws {
        let outcome = try nablaRun(["--audit", try Paths.guest("hello")])
        #expect(outcome.status == 0, "\(outcome)")
        #expect(outcome.stdout == "Hello from a nabla guest!\n")
        let report = outcome.stderr
        #expect(report.contains("policy check: every guest-phase call matched an allowed rule"), "\(report)")
        let guest = report.components(separatedBy: "guest phase (under the filter):")[1].components(separatedBy: "policy check")[0]
        let names = guest.split(separator: "\n").dropFirst().map { $0.split(separator: " ")[0] }
        #expect(Set(names).isSubset(of: Set(Syscall.guestSet.map { Substring($0.name) })), "\(names)")
        #expect(names.contains("write") && names.contains("exit_group"))
        #expect(report.contains("  puts        1 calls, \("Hello from a nabla guest!\n".utf8.count) bytes"))
        #expect(report.contains("setup phase (nabla-run, before the filter):"))
        #expect(report.contains("policy rules never used:"))
    }

    @Test("--audit on forbidden reports the violating call and keeps the exit status")
    func forbidden() throws {
        let outcome = try nablaRun(["--audit", try Paths.guest("forbidden"), "39"])
        #expect(outcome.status == ExitStatus.forbiddenSyscall, "\(outcome)")
        #expect(outcome.stderr.contains("nabla-run: guest made a forbidden system call: getpid (39)"))
        #expect(outcome.stderr.contains("policy check: 1 guest-phase calls matched no rule:\n  getpid (39) args"))
    }

    @Test("the guest's stdout and exit status are the same with and without --audit",
          arguments: [["hello"], ["exit", "42"], ["args", "a", "-b", "c d"], ["abort"], ["clock"]])
    func transparent(_ arguments: [String]) throws {
        let guest = [try Paths.guest(arguments[0])] + arguments.dropFirst()
        let plain = try nablaRun(guest)
        let audited = try nablaRun(["--audit", "--audit-out", "/dev/null"] + guest)
        #expect(audited.status == plain.status)
        if arguments[0] != "clock" { #expect(audited.stdout == plain.stdout) }  // clock prints timings
        #expect(audited.stderr == plain.stderr)
    }

    @Test("--json on stderr is its last line, valid JSON even after the forbidden-call line")
    func jsonOnStderr() throws {
        let outcome = try nablaRun(["--audit", "--json", try Paths.guest("forbidden"), "39"])
        #expect(outcome.status == ExitStatus.forbiddenSyscall, "\(outcome)")
        #expect(outcome.stderr.hasPrefix("nabla-run: guest made a forbidden system call: getpid (39)\n"))
        let last = try #require(outcome.stderr.split(separator: "\n").last)
        let object = try JSONSerialization.jsonObject(with: Data(last.utf8)) as? [String: Any]
        #expect(object?["verdict"] as? String == "the filter trapped getpid (39) (SIGSYS from seccomp, seen by the tracer)")
    }

    @Test("--json writes the documented fields")
    func json() throws {
        try withTemporaryDirectory { dir in
            let disk = try makeDisk(in: dir, size: 4096)
            let out = dir + "/audit.json"
            let outcome = try nablaRun(["--audit", "--json", "--audit-out", out, "--disk", disk, try Paths.guest("clock")])
            #expect(outcome.status == 0, "\(outcome)")
            let object = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out))) as? [String: Any]
            let report = try #require(object)
            #expect(report["schema"] as? String == "nabla-audit/1")
            #expect(report["mode"] as? String == "guest")
            #expect((report["exit"] as? [String: Any])?["status"] as? Int == 0)
            let phases = try #require(report["phases"] as? [String: Any])
            let guest = try #require(phases["guest"] as? [String: Any])
            let syscalls = try #require(guest["syscalls"] as? [String: Int])
            #expect(syscalls["ppoll"] ?? 0 >= 1 && syscalls["exit_group"] == 1)
            #expect((phases["setup"] as? [String: Any])?["total"] as? Int ?? 0 > 10)
            let policy = try #require(report["policy"] as? [[String: Any]])
            #expect(policy.contains { ($0["rule"] as? String)?.hasPrefix("pwrite64 (18) if fd == 3 [disk disk") == true && $0["used"] as? Int == 0 })
            #expect((report["violations"] as? [Any])?.isEmpty == true)
            let hypercalls = try #require(report["hypercalls"] as? [String: [String: Int]])
            #expect(hypercalls["poll"]?["calls"] == 1 && hypercalls["walltime"]?["calls"] ?? 0 >= 3)
            #expect((report["unused_rules"] as? [String])?.contains { $0.hasPrefix("pread64") } == true)
        }
    }

    @Test("--audit-native traces a native command the same way")
    func native() throws {
        let outcome = try nablaRun(["--audit-native", "--", "/bin/echo", "hi"])
        #expect(outcome.status == 0, "\(outcome)")
        #expect(outcome.stdout == "hi\n")
        #expect(outcome.stderr.contains("nabla-run audit: /bin/echo hi\nnative process: "))
        #expect(outcome.stderr.contains("\n  write "))
        let failing = try nablaRun(["--audit-native", "--", "/bin/sh", "-c", "exit 3"])
        #expect(failing.status == 3)
        expectOneLineError(try nablaRun(["--audit-native", "--", "no-such-command-here"]), status: ExitStatus.osError,
                           containing: "cannot find 'no-such-command-here' on PATH")
    }

    @Test("--audit-kernel counts kernel functions, or says why the kernel refuses, and leaves the host's tracer as it found it")
    func kernel() throws {
        guard geteuid() == 0 else {
            // As another user, the one line that says root is needed.
            let outcome = try nablaRun(["--audit", "--audit-kernel", try Paths.guest("hello")])
            expectOneLineError(outcome, status: ExitStatus.unavailable, containing: "(--audit-kernel needs root)")
            return
        }
        let tracing = "/sys/kernel/tracing"
        _ = try run("/bin/sh", ["-c", "mount | grep -q tracefs || mount -t tracefs nodev \(tracing)"])
        let tracerBefore = try String(contentsOfFile: tracing + "/current_tracer", encoding: .utf8)
        let outcome = try nablaRun(["--audit", "--audit-kernel", "--json", try Paths.guest("hello")], timeout: 120)
        if outcome.status == 0 {
            let object = try JSONSerialization.jsonObject(with: Data(outcome.stderr.utf8)) as? [String: Any]
            let kernel = try #require(object?["kernel"] as? [String: Any])
            #expect(kernel["functions"] as? Int ?? 0 > 0)
        } else {
            // This machine's kernel refuses ftrace's function tracer even to root.
            expectOneLineError(outcome, status: ExitStatus.unavailable, containing: "--audit-kernel: the kernel refused the function tracer")
        }
        #expect(try String(contentsOfFile: tracing + "/current_tracer", encoding: .utf8) == tracerBefore,
                "--audit-kernel must put the host's current_tracer back")
    }

    @Test("audit modes are exclusive with --policy and --inspect")
    func exclusive() throws {
        expectOneLineError(try nablaRun(["--audit", "--inspect", try Paths.guest("hello")]), status: ExitStatus.usage,
                           containing: "separate modes")
        expectOneLineError(try nablaRun(["--audit-native"]), status: ExitStatus.usage, containing: "--audit-native needs a command")
    }
}

@Suite("Audit manifest")
struct AuditManifestTests {
    @Test("a policy with disks and NICs crosses the pipe as itself: every rule, pin, comparison and meaning")
    func roundTrip() throws {
        let host = HostAddresses(diagnosticBuffer: 0xd01000, stdinBuffer: 0xd04000, pollfds: 0xd02000, pollfdCount: 1, pollTimeout: 0xd03000)
        let devices = [
            AttachedDevice(name: "disk", kind: .block, path: "/d/a\tb.img", fd: 3, capacity: 1 << 20),
            AttachedDevice(name: "ro", kind: .block, path: "/d/ro.img", fd: 4, readOnly: true, capacity: 4096),
            AttachedDevice(name: "net", kind: .net, path: "tap0", fd: 5, mac: MACAddress(2, 0, 0, 0, 0, 1)),
        ]
        let policy = SeccompPolicy(for: host, devices: devices)
        let manifest = AuditManifest(rules: policy.rules, countersAddress: 0x12b8000)
        let decoded = try #require(AuditManifest(decoding: manifest.encoded))
        #expect(decoded.countersAddress == 0x12b8000)
        #expect(decoded.rules.count == policy.rules.count)
        for (got, want) in zip(decoded.rules, policy.rules) {
            #expect(got.condition == want.condition.replacingOccurrences(of: "\t", with: " "))
            #expect(got.pins.map(\.value) == want.pins.map(\.value))
            #expect(got.pins.map(\.comparison) == want.pins.map(\.comparison))
        }
    }

    @Test("a truncated or malformed manifest is refused, not read as a smaller policy",
          arguments: ["", "rule\t1\t0\t==\t0x1\t-\n", "counters\t0x10\nrule\t1\t0\t==\n", "counters\t0x10\nrule\tx\n",
                      "counters\t0x10\nbogus\n", "counters\t16\n"])
    func malformed(_ text: String) {
        #expect(AuditManifest(decoding: text) == nil)
    }
}
