// Attaching disks: every open-time error is one line with its status, the
// lock keeps a second tender out, and the policy pins each disk's descriptor.

import CNablaTender
import Foundation
import NablaTestSupport
import Testing
@testable import Nabla

/// Waits (at most 5 s) until `child`'s seccomp filter is loaded, that is,
/// until its guest runs.
func waitUntilGuestRuns(_ child: Child) -> Bool {
    let deadline = Date().addingTimeInterval(5)
    while child.isRunning && Date() < deadline {
        let status = (try? String(contentsOfFile: "/proc/\(child.pid)/status", encoding: .utf8)) ?? ""
        if status.contains("Seccomp:\t2") { return true }
        usleep(5_000)
    }
    return false
}

@Suite("Disk attachment")
struct DiskAttachTests {
    @Test("open-time errors are one line with a documented status")
    func openErrors() throws {
        try withTemporaryDirectory { dir in
            let image = try writeImage(ELFBuilder().build(), in: dir)
            expectOneLineError(try nablaRun(["--disk", dir + "/none.img", image]), status: ExitStatus.noInput,
                               containing: "cannot open disk \(dir)/none.img: No such file or directory")
            expectOneLineError(try nablaRun(["--disk", dir, image]), status: ExitStatus.noInput,
                               containing: "cannot open disk \(dir): Is a directory")
            expectOneLineError(try nablaRun(["--disk-readonly", dir, image]), status: ExitStatus.noInput,
                               containing: "disk \(dir) is a directory")
            expectOneLineError(try nablaRun(["--disk-readonly", "/dev/null", image]), status: ExitStatus.noInput,
                               containing: "disk /dev/null is not a regular file or block device")
            let empty = try makeDisk(in: dir, name: "empty.img", size: 0)
            expectOneLineError(try nablaRun(["--disk", empty, image]), status: ExitStatus.badImage,
                               containing: "disk \(empty) is empty")
            let odd = try makeDisk(in: dir, name: "odd.img", size: 1000)
            expectOneLineError(try nablaRun(["--disk", odd, image]), status: ExitStatus.badImage,
                               containing: "is 1000 bytes, not a multiple of the 512-byte sector; resize it, for example: truncate -s 1024")
        }
    }

    @Test("names: defaults, duplicates, the same file twice, too many")
    func names() throws {
        try withTemporaryDirectory { dir in
            let image = try writeImage(ELFBuilder().build(), in: dir)
            let a = try makeDisk(in: dir, name: "a.img", size: 4096), b = try makeDisk(in: dir, name: "b.img", size: 4096)
            expectOneLineError(try nablaRun(["--disk", "x=" + a, "--disk", "x=" + b, image]), status: ExitStatus.usage,
                               containing: "two devices are named 'x'")
            expectOneLineError(try nablaRun(["--disk", a, "--disk-readonly", a, image]), status: ExitStatus.usage,
                               containing: "disk \(a) is attached twice (as 'disk' and 'disk1')")
            let many = (0...Int(NABLA_MAX_DEVICES)).flatMap { ["--disk-readonly", "d\($0)=" + a] }
            expectOneLineError(try nablaRun(many + [image]), status: ExitStatus.usage,
                               containing: "17 devices given; a guest can have at most 16")
            #expect(try Devices.names(for: [DeviceSpec(path: a), DeviceSpec(name: "disk", path: b), DeviceSpec(path: b)],
                                      prefix: "disk") == ["disk1", "disk", "disk2"])
            #expect(try Devices.names(for: [DeviceSpec(path: "tap0"), DeviceSpec(path: "tap1")], prefix: "net", taken: ["net"])
                    == ["net1", "net2"])
        }
    }

    @Test("NAME=PATH is split where the text before '=' has no slash; an invalid NAME is kept, for attaching to refuse")
    func specParsing() {
        #expect(DeviceSpec(parsing: "data=/tmp/x.img") == DeviceSpec(name: "data", path: "/tmp/x.img"))
        #expect(DeviceSpec(parsing: "/tmp/x.img") == DeviceSpec(path: "/tmp/x.img"))
        #expect(DeviceSpec(parsing: "./a=b.img") == DeviceSpec(path: "./a=b.img"))
        #expect(DeviceSpec(parsing: "=x.img") == DeviceSpec(path: "=x.img"))
        #expect(DeviceSpec(parsing: String(repeating: "n", count: 32) + "=x") == DeviceSpec(name: String(repeating: "n", count: 32), path: "x"))
        #expect(DeviceSpec(parsing: "my disk=x") == DeviceSpec(name: "my disk", path: "x"))
    }

    @Test("a second nabla-run on a disk in use fails with a message naming it")
    func lock() throws {
        try withTemporaryDirectory { dir in
            let disk = try makeDisk(in: dir, size: 4096)
            let sleeper = try writeImage(sleepingGuest(nanoseconds: 3_000_000_000), in: dir, name: "sleep.nabla")
            let image = try writeImage(ELFBuilder(status: 5).build(), in: dir)
            let first = try Child(Paths.tender, ["--disk", disk, sleeper])
            // Probe only once the first tender's guest runs (so it holds the lock).
            #expect(waitUntilGuestRuns(first), "the first tender never started its guest")
            let outcome = try nablaRun(["--disk", disk, image])
            #expect(first.isRunning, "the first tender stopped early: \(first.status.map(String.init) ?? "?")")
            expectOneLineError(outcome, status: ExitStatus.inUse, containing: "disk \(disk) is in use")
            expectOneLineError(try nablaRun(["--disk-readonly", disk, image]), status: ExitStatus.inUse,
                               containing: "disk \(disk) is in use")
            first.kill()
            #expect(try nablaRun(["--disk", disk, image]).status == 5, "the lock must go with the process")
        }
    }

    @Test("readers share a read-only disk")
    func sharedReaders() throws {
        try withTemporaryDirectory { dir in
            let disk = try makeDisk(in: dir, size: 4096)
            let sleeper = try writeImage(sleepingGuest(nanoseconds: 1_000_000_000), in: dir, name: "sleep.nabla")
            let first = try Child(Paths.tender, ["--disk-readonly", disk, sleeper])
            #expect(waitUntilGuestRuns(first))
            #expect(try nablaRun(["--disk-readonly", disk, try writeImage(ELFBuilder(status: 4).build(), in: dir)]).status == 4)
            #expect(first.isRunning, "the first reader should still be running")
        }
    }

    @Test("the policy pins pread64 to each disk and pwrite64 to writable ones, with sizes and offsets inside the disk")
    func policy() {
        let host = HostAddresses(diagnosticBuffer: 0xd01000, stdinBuffer: 0xd04000, pollfds: 0xd02000, pollfdCount: 0, pollTimeout: 0xd03000)
        let devices = [
            AttachedDevice(name: "disk", kind: .block, path: "/d/a.img", fd: 3, readOnly: false, capacity: 4096),
            AttachedDevice(name: "ro", kind: .block, path: "/d/b.img", fd: 4, readOnly: true, capacity: 4096),
        ]
        let rules = SeccompPolicy(for: host, devices: devices).rules.map(\.description)
        // One rule per transfer size that fits the 4096-byte disk (512 B to
        // 4 KiB), each of exactly that size and ending inside it.
        var expected: [String] = []
        for (call, fd, name, path) in [("pread64 (17)", 3, "disk", "/d/a.img"), ("pwrite64 (18)", 3, "disk", "/d/a.img"),
                                       ("pread64 (17)", 4, "ro", "/d/b.img")] {
            for size in [512, 1024, 2048, 4096] {
                expected.append("allow \(call) if fd == \(fd) [disk \(name) (\(path))] && count == \(size) && pos <= \(4096 - size) [capacity - \(size)]")
            }
        }
        #expect(Array(rules.suffix(12)) == expected)
        #expect(!rules.contains { $0.contains("pwrite64") && $0.contains("fd == 4") })
    }

    @Test("the guest starts with only stdin, stdout, stderr and its disks open")
    func descriptors() throws {
        try withTemporaryDirectory { dir in
            let a = try makeDisk(in: dir, name: "a.img", size: 4096), b = try makeDisk(in: dir, name: "b.img", size: 4096)
            let image = try writeImage(sleepingGuest(nanoseconds: 3_000_000_000), in: dir)
            let process = try Child("/bin/sh", ["-c", "exec 9</etc/hostname; exec \"$0\" --disk \"$1\" --disk-readonly \"$2\" \"$3\"", Paths.tender, a, b, image])
            var last: [String] = []
            let deadline = Date().addingTimeInterval(2.5)
            while Date() < deadline {
                let status = (try? String(contentsOfFile: "/proc/\(process.pid)/status", encoding: .utf8)) ?? ""
                last = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(process.pid)/fd"))?.sorted() ?? []
                if status.contains("Seccomp:\t2") && !last.contains("9") { break }
                usleep(10_000)
            }
            #expect(last == ["0", "1", "2", "3", "4"], "open descriptors while the guest runs: \(last)")
            let targets = last.compactMap { try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(process.pid)/fd/\($0)") }
            #expect(targets.contains(a) && targets.contains(b), "\(targets)")
        }
    }
}
