// --seccomp-profile and --merge: OCI seccomp profiles from audited runs,
// checked as data and loaded for real by podman with runc.

import Foundation
import Testing
@testable import Nabla

/// bench/native/probe.c (files, sockets, clocks), built static with gcc.
private enum Probe {
    static let source = Paths.packageRoot.appendingPathComponent("bench/native/probe.c").path

    static func build(to path: String) throws {
        let gcc = try run(OCIHost.tool("gcc") ?? "gcc", ["-static", "-O2", "-o", path, source], timeout: 60)
        guard gcc.status == 0 else { throw HarnessError("cannot build bench/native/probe.c: \(gcc)") }
    }
}

/// Runs `nabla-run ARGS` in `directory` with stdin from `input` (or /dev/null).
private func nablaRun(in directory: String, _ arguments: [String], input: String = "/dev/null") throws -> Outcome {
    try run("/bin/sh", ["-c", "cd \"$1\" && shift && exec \"$@\" < \"$0\"", input, directory, Paths.tender] + arguments, timeout: 60)
}

private func profile(_ path: String) throws -> [String: Any] {
    try #require(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any])
}

/// The profile's entries as (name, args) pairs.
private func entries(_ profile: [String: Any]) -> [(name: String, args: [[String: Any]])] {
    ((profile["syscalls"] as? [[String: Any]]) ?? []).flatMap { entry in
        ((entry["names"] as? [String]) ?? []).map { ($0, (entry["args"] as? [[String: Any]]) ?? []) }
    }
}

@Suite("Seccomp profiles from audits")
struct SeccompProfileTests {
    @Test("a native run's profile: EPERM by default, the calls it made, clock and socket arguments pinned, the same bytes twice",
          .enabled(if: NativeMarker.canBuild, "needs gcc (tools/install-deps)"))
    func nativeProfile() throws {
        try withTemporaryDirectory { dir in
            try Probe.build(to: dir + "/probe")
            for name in ["a.json", "b.json"] {
                let outcome = try nablaRun(in: dir, ["--audit-native", "--seccomp-profile", name, "--", "./probe"])
                #expect(outcome.status == 0 && outcome.stdout == "probe ok\n", "\(outcome)")
            }
            let a = try Data(contentsOf: URL(fileURLWithPath: dir + "/a.json"))
            #expect(a == (try Data(contentsOf: URL(fileURLWithPath: dir + "/b.json"))), "the same workload twice gives the same bytes")
            let json = try profile(dir + "/a.json")
            #expect(json["defaultAction"] as? String == "SCMP_ACT_ERRNO")
            #expect(json["defaultErrnoRet"] as? Int == 1)
            #expect(json["architectures"] as? [String] == ["SCMP_ARCH_X86_64"])
            let all = entries(json)
            let names = Set(all.map(\.name))
            #expect(names.isSuperset(of: ["openat", "pread64", "unlink", "bind", "sendto", "recvfrom", "socketpair", "execve"]), "\(names)")
            #expect(!names.contains("sysinfo"))
            // socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC): family and type, never the fd-valued calls.
            let socket = all.filter { $0.name == "socket" }
            #expect(socket.count == 1 && socket[0].args.map { $0["value"] as? Int } == [2, 2 | 0o2000000], "\(socket)")
            #expect(all.filter { $0.name == "clock_gettime" }.map { $0.args.first?["value"] as? Int } == [2], "CLOCK_PROCESS_CPUTIME_ID")
            #expect(all.filter { $0.name == "clock_nanosleep" }.map { $0.args.count } == [2])
            #expect(all.filter { $0.name == "bind" || $0.name == "write" }.allSatisfy { $0.args.isEmpty }, "descriptors are never pinned")
        }
    }

    @Test("--merge: the union of two runs, written over one of its inputs; a bad profile is one line and status 65",
          .enabled(if: NativeMarker.canBuild, "needs gcc (tools/install-deps)"))
    func merge() throws {
        try withTemporaryDirectory { dir in
            try Probe.build(to: dir + "/probe")
            #expect(try nablaRun(in: dir, ["--audit-native", "--seccomp-profile", "p.json", "--", "./probe"]).status == 0)
            let extra = try nablaRun(in: dir, ["--audit-native", "--seccomp-profile", "p.json", "--merge", "p.json", "--", "./probe", "extra"])
            #expect(extra.status == 0 && extra.stdout.hasSuffix("sysinfo: OK\n"), "\(extra)")
            #expect(Set(entries(try profile(dir + "/p.json")).map(\.name)).isSuperset(of: ["sysinfo", "unlink"]))
            // Merging a profile into itself changes nothing.
            let before = try Data(contentsOf: URL(fileURLWithPath: dir + "/p.json"))
            #expect(try nablaRun(in: dir, ["--audit-native", "--seccomp-profile", "q.json", "--merge", "p.json", "--", "./probe", "extra"]).status == 0)
            #expect(before == (try Data(contentsOf: URL(fileURLWithPath: dir + "/q.json"))))

            try #"{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": []}"#.write(toFile: dir + "/allow.json", atomically: true, encoding: .utf8)
            try #"{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_MASKED_EQ"}]}]}"#
                .write(toFile: dir + "/masked.json", atomically: true, encoding: .utf8)
            try #"{"defaultAction": "#.write(toFile: dir + "/cut.json", atomically: true, encoding: .utf8)
            for (file, reason) in [("allow.json", "does not deny"), ("masked.json", "only SCMP_CMP_EQ"), ("cut.json", "not JSON")] {
                let outcome = try nablaRun(in: dir, ["--audit-native", "--seccomp-profile", "out.json", "--merge", file, "--", "./probe"])
                expectOneLineError(outcome, status: ExitStatus.badImage, containing: "--merge \(file): ")
                #expect(outcome.stderr.contains(reason), "\(outcome.stderr)")
                #expect(!outcome.stdout.contains("probe ok"), "nothing runs")
            }
            expectOneLineError(try nablaRun(in: dir, ["--audit-native", "--merge", "p.json", "--", "./probe"]),
                               status: ExitStatus.usage, containing: "--merge adds to a profile")
        }
    }

    @Test("a guest's profile covers the whole process: the tender's set-up (seccomp, mmap) and the guest phase (write)")
    func guestProfile() throws {
        try withTemporaryDirectory { dir in
            let outcome = try nablaRun(["--audit", "--seccomp-profile", dir + "/hello.json", try Paths.guest("hello")])
            #expect(outcome.status == 0, "\(outcome)")
            let all = entries(try profile(dir + "/hello.json"))
            let names = Set(all.map(\.name))
            #expect(names.isSuperset(of: ["seccomp", "prctl", "mmap", "write", "exit_group"]), "\(names)")
            // seccomp(SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, prog): the tender's filter, and nothing else.
            #expect(all.filter { $0.name == "seccomp" }.map { $0.args.map { $0["value"] as? Int } } == [[1, 1]], "\(all)")
        }
    }

    @Test("the profiles load in podman with runc: the probe and Debian's gzip run as before; one call more is denied with EPERM",
          .enabled(if: OCIHost.hasPodman && NativeMarker.canBuild && OCIHost.tool("runc") != nil, "needs root, podman, runc and gcc"))
    func podmanRunc() throws {
        try withTemporaryDirectory { dir in
            try Probe.build(to: dir + "/probe")
            #expect(try nablaRun(in: dir, ["--audit-native", "--seccomp-profile", "probe.json", "--", "./probe"]).status == 0)
            // gzip as Debian ships it (dynamic, with its libraries), compressing stdin.
            let input = dir + "/input.txt"
            try String(repeating: "nabla seccomp profile\n", count: 500).write(toFile: input, atomically: true, encoding: .utf8)
            let gzipped = try nablaRun(in: dir, ["--audit-native", "--seccomp-profile", "gzip.json", "--", "/usr/bin/gzip", "-n", "-c"], input: input)
            #expect(gzipped.status == 0, "\(gzipped.stderr)")

            let podman = try Podman(guests: [], files: ["probe": dir + "/probe"], command: "/probe")
            let runtime = ["--runtime", OCIHost.tool("runc")!, "--network", "none"]
            for privileges in [[], ["--security-opt", "no-new-privileges"]] {
                let base = ["--rm"] + runtime + privileges + ["--security-opt", "seccomp=" + dir + "/probe.json"]
                let plain = try podman.runImage(base, ["/probe"])
                #expect(plain.status == 0 && plain.stdout == "probe ok\n", "\(privileges): \(plain)")
                let extra = try podman.runImage(base, ["/probe", "extra"])
                #expect(extra.status == 3 && extra.stdout == "probe ok\nsysinfo: errno 1 (Operation not permitted)\n", "\(privileges): \(extra)")
            }
            // Without the profile, sysinfo works: the denial is the profile's.
            #expect(try podman.runImage(["--rm"] + runtime, ["/probe", "extra"]).stdout.hasSuffix("sysinfo: OK\n"))

            // gzip's image: the program, its libraries and the loader's cache where they are on the host.
            let gzipPodman = try Podman(guests: [], command: "/usr/bin/gzip", hostFiles: [
                "/lib/x86_64-linux-gnu/libc.so.6", "/lib64/ld-linux-x86-64.so.2", "/etc/ld.so.cache", "/usr/bin/gzip"])
            let expected = try run("/bin/sh", ["-c", "gzip -n -c < \"$0\" | od -An -tx1", input]).stdout
            let inContainer = try run("/bin/sh", ["-c", "\"$0\" run -i --rm --runtime \"$1\" --network none --ulimit nofile=1024:1024 --ulimit nproc=1024:1024 --security-opt seccomp=\"$2\" \"$3\" /usr/bin/gzip -n -c < \"$4\" | od -An -tx1",
                                                  OCIHost.tool("podman") ?? "podman", OCIHost.tool("runc")!, dir + "/gzip.json", gzipPodman.image, input], timeout: 60)
            #expect(inContainer.status == 0 && inContainer.stdout == expected && !expected.isEmpty, "\(inContainer)")
        }
    }
}
