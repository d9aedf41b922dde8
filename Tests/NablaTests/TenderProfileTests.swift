// TenderProfileTests.swift: the seccomp profile nabla-runc loads around the
// tender (Sources/nabla-runc/TenderFilter.swift, docs/oci.md): the
// checked-in profile is what the tender's own audits give today, its
// compiled program allows exactly that and refuses the rest with EPERM, it
// is really loaded (and --tender-seccomp unconfined really leaves it out), and
// the bundled guest kinds run under it.

import CNablaTender
import Foundation
import Nabla
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite("nabla-runc's profile around the tender")
struct TenderProfileTests {
    /// `nabla-runc tender-profile`: the profile as checked in.
    static func checkedIn() throws -> (text: String, profile: SeccompProfile) {
        let outcome = try run(OCIHost.runtime, ["tender-profile"])
        try #require(outcome.status == 0, "\(outcome)")
        return (outcome.stdout, try SeccompProfile(parsing: outcome.stdout, path: "nabla-runc tender-profile"))
    }

    /// System call numbers by name, from the tender's table.
    static func number(_ name: String) throws -> Int32 {
        for number in 0..<512 {
            if let pointer = nabla_syscall_name(number), String(cString: pointer) == name { return Int32(number) }
        }
        throw BPFError(description: "no system call named \(name)")
    }

    @Test("the checked-in profile is the one the tender's audits give today: neither stale nor too narrow",
          .enabled(if: OCIHost.isRoot, "the audits need root (ptrace, a loop device, a TAP interface)"))
    func checkedInIsCurrent() throws {
        let script = Paths.packageRoot.appendingPathComponent("tools/gen-tender-profile.sh").path
        let generated = try run("/bin/sh", [script, "--json", Paths.tender, Paths.guests], timeout: 120)
        try #require(generated.status == 0, "\(generated)")
        let fresh = try SeccompProfile(parsing: generated.stdout, path: "tools/gen-tender-profile.sh")
        let (text, profile) = try Self.checkedIn()
        #expect(fresh.merged(with: profile) == profile,
                "too narrow: the tender now makes calls the checked-in profile refuses; run tools/gen-tender-profile.sh TENDER GUESTS > Sources/nabla-runc/TenderProfile.swift\n\(generated.stdout)")
        #expect(generated.stdout == text,
                "stale: regenerate Sources/nabla-runc/TenderProfile.swift with tools/gen-tender-profile.sh\nnow:\n\(generated.stdout)\nchecked in:\n\(text)")
    }

    @Test("the compiled filter allows each rule of the profile and refuses anything else with EPERM")
    func compiledFilter() throws {
        let path = NSTemporaryDirectory() + "no-tender-bpf-" + OCIHost.tag()
        defer { unlink(path) }
        let export = try run("/bin/sh", ["-c", "\"$0\" tender-profile --bpf > \"$1\"", OCIHost.runtime, path])
        try #require(export.status == 0, "\(export)")
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        try #require(bytes.count % 8 == 0 && !bytes.isEmpty, "\(bytes.count) bytes")
        let program = stride(from: 0, to: bytes.count, by: 8).map { (i: Int) -> sock_filter in
            let code = UInt16(bytes[i]) | UInt16(bytes[i + 1]) << 8
            var k: UInt32 = 0
            for byte in bytes[i + 4 ..< i + 8].reversed() { k = k << 8 | UInt32(byte) }
            return sock_filter(code: code, jt: bytes[i + 2], jf: bytes[i + 3], k: k)
        }
        func verdict(_ name: String, _ arguments: [UInt64] = [], arch: UInt32 = SeccompData.x86_64) throws -> SeccompAction {
            try runSeccompFilter(program, on: SeccompData(try Self.number(name), arguments, arch: arch))
        }

        let profile = try Self.checkedIn().profile
        #expect(profile.allowed.count > 20, "\(profile.allowed.keys.sorted())")
        for (name, allowance) in profile.allowed {
            switch allowance {
            case .always:
                #expect(try verdict(name) == .allow, "\(name)")
            case .when(let tuples):
                for tuple in tuples {
                    var arguments: [UInt64] = [0, 0, 0, 0, 0, 0]
                    for condition in tuple { arguments[condition.index] = condition.value }
                    #expect(try verdict(name, arguments) == .allow, "\(name) \(tuple)")
                    // One pinned argument off by one: refused unless another tuple allows it.
                    var off = arguments
                    off[tuple[0].index] &+= 1
                    let allowedToo = tuples.contains { other in other.allSatisfy { off[$0.index] == $0.value } }
                    if !allowedToo { #expect(try verdict(name, off) == .errno(1), "\(name) \(off)") }
                }
            }
        }
        // Calls the tender never makes.
        for name in ["ptrace", "mount", "execve", "setuid", "connect", "openat", "process_vm_writev", "bpf", "unshare"] {
            #expect(!profile.allowed.keys.contains(name), "\(name) is in the profile")
            #expect(try verdict(name) == .errno(1), "\(name)")
        }
        #expect(try verdict("ioctl", [0, 0x5412]) == .errno(1), "ioctl TIOCSTI")
        #expect(try verdict("socket", [16, 3]) == .errno(1), "socket AF_NETLINK")
        #expect(try verdict("clock_gettime", [7]) == .errno(1), "clock_gettime CLOCK_BOOTTIME")
        // Another architecture's entry: refused too, even for a call allowed natively.
        #expect(try runSeccompFilter(program, on: SeccompData(4, [1], arch: SeccompData.i386)) == .errno(1), "i386 write")
        #expect(try runSeccompFilter(program, on: SeccompData(SeccompData.x32Bit | 1, [1])) == .errno(1), "x32 write")
    }

    /// The number of seccomp filters on a running container's tender.
    private func filterCount(globalOptions: [String], expected: Int) throws -> Int? {
        let root = try RuntimeRoot(globalOptions: globalOptions), bundle = try OCIBundle(guests: ["attack-spin"])
        try bundle.write(OCIBundle.config(args: ["/attack-spin.nabla"]))
        let container = try CreatedContainer(root: root, bundle: bundle)
        defer { _ = try? root.runc(["delete", "--force", container.id]) }
        try #require(container.createStatus == 0, "\(container.stderr)")
        try #require(try root.runc(["start", container.id]).status == 0)
        let pid = try #require(try root.waitForStatus(container.id, "running")["pid"] as? Int)
        // The tender loads its own filter at the end of its set-up: wait
        // for `expected`, and report what there is if it never comes.
        var count: Int?
        for _ in 0..<100 {
            let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
            count = status.split(separator: "\n").first { $0.hasPrefix("Seccomp_filters:") }
                .flatMap { Int($0.split(separator: "\t").last ?? "") }
            if count == expected { break }
            usleep(50_000)
        }
        return count
    }

    @Test("the tender runs under two filters, nabla-runc's and its own; --tender-seccomp unconfined leaves out nabla-runc's; an annotation cannot",
          .enabled(if: OCIHost.isRoot, "creating containers needs root"))
    func loaded() throws {
        #expect(try filterCount(globalOptions: [], expected: 2) == 2)
        #expect(try filterCount(globalOptions: ["--tender-seccomp", "default"], expected: 2) == 2)
        #expect(try filterCount(globalOptions: ["--tender-seccomp=unconfined"], expected: 1) == 1)
        let bad = try run(OCIHost.runtime, ["--tender-seccomp", "off", "state", "x"])
        #expect(bad.status == 64 && bad.stderr.contains("must be default or unconfined"), "\(bad)")
        let root = try RuntimeRoot(), bundle = try OCIBundle(guests: ["hello"])
        try bundle.write(OCIBundle.config(args: ["/hello.nabla"], annotations: ["org.nabla.tender-seccomp": "unconfined"]))
        let annotated = try root.runc(["run", "--bundle", bundle.path, "no-test-" + OCIHost.tag()])
        #expect(annotated.status == 65 && annotated.stderr.contains("unknown annotation org.nabla.tender-seccomp"), "\(annotated)")
    }

    @Test("every bundled guest kind runs under the profile through nabla-runc",
          .enabled(if: OCIHost.isRoot, "creating containers needs root"))
    func guestsRunUnderIt() throws {
        let root = try RuntimeRoot(), bundle = try OCIBundle(guests: ["hello", "process", "kvlog", "clock"])
        try FileManager.default.copyItem(atPath: try solo5Guest("hello"), toPath: bundle.rootfs + "/hello.spt")
        try FileManager.default.copyItem(atPath: try solo5Guest("blk"), toPath: bundle.rootfs + "/blk.spt")
        #expect(FileManager.default.createFile(atPath: bundle.rootfs + "/kv.img", contents: Data(count: 1 << 20)))
        #expect(FileManager.default.createFile(atPath: bundle.rootfs + "/blk.img", contents: Data(count: 1 << 20)))
        // A Solo5 image takes no environment (nabla-run refuses --env for one).
        func runc(_ args: [String], annotations: [String: String] = [:]) throws -> Outcome {
            let env = args[0].hasSuffix(".spt") ? [] : ["PATH=/", "COLOUR=blue"]
            try bundle.write(OCIBundle.config(args: args, process: ["env": env], annotations: annotations))
            return try root.runc(["run", "--bundle", bundle.path, "no-test-" + OCIHost.tag()])
        }
        let hello = try runc(["/hello.nabla"])
        #expect(hello.status == 0 && hello.stdout == "Hello from a nabla guest!\n", "\(hello)")
        for mode in ["streams", "clock", "random", "identity", "env"] {
            let outcome = try runc(["/process.nabla", mode])
            #expect(outcome.status == 0 && !outcome.stderr.contains("Operation not permitted"), "\(mode): \(outcome)")
        }
        let clock = try runc(["/clock.nabla"])
        #expect(clock.status == 0, "\(clock)")
        let disk = ["org.nabla.disk.disk": "/kv.img"]
        let put = try runc(["/kvlog.nabla", "put", "colour", "blue"], annotations: disk)
        #expect(put.status == 0 && put.stdout.contains("ok 1"), "\(put)")
        let get = try runc(["/kvlog.nabla", "get", "colour"], annotations: disk.merging(["org.nabla.disk-readonly.disk": "true"]) { $1 })
        #expect(get.status == 0 && get.stdout == "blue\n", "\(get)")
        let solo5 = try runc(["/hello.spt"])
        #expect(solo5.status == 0 && solo5.stdout.contains("Hello"), "\(solo5)")
        let blk = try runc(["/blk.spt"], annotations: ["org.nabla.disk.storage": "/blk.img"])
        #expect(blk.status == 0, "\(blk)")
    }
}
