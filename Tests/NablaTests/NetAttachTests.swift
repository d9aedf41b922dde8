// Attaching NICs: every attach-time error is one line with its status and the
// command that fixes it; the policy pins each tap; the net hypercalls refuse
// bad arguments with their codes (the netbad guest). Also --disk-sync.
// Every interface is made in a network namespace of the test's own, and
// nabla-run runs in it.

import Foundation
import NablaTestSupport
import Testing
@testable import Nabla

@Suite("NIC attachment")
struct NetAttachTests {
    @Test("attach errors: missing, down, not a TAP, given twice, in use", .needsRoot("needs root: it creates a network namespace and TAP interfaces"))
    func attachErrors() throws {
        let namespace = try NetNamespace()
        func nablaRun(_ arguments: [String]) throws -> Outcome { try namespace.run(Paths.tender, arguments) }
        try withTemporaryDirectory { dir in
            let image = try writeImage(ELFBuilder(status: 6).build(), in: dir)
            expectOneLineError(try nablaRun(["--net", "nlnone0", image]), status: ExitStatus.unavailable,
                               containing: "no network interface 'nlnone0': create it with: ip tuntap add dev nlnone0 mode tap && ip link set nlnone0 up")

            let down = "nldown0"
            try namespace.ip(["tuntap", "add", "dev", down, "mode", "tap"])
            expectOneLineError(try nablaRun(["--net", down, image]), status: ExitStatus.unavailable,
                               containing: "cannot attach \(down): Network is down (run: ip link set \(down) up)")

            let tun = "nltun0"
            try namespace.ip(["tuntap", "add", "dev", tun, "mode", "tun"])
            try namespace.ip(["link", "set", tun, "up"])
            expectOneLineError(try nablaRun(["--net", tun, image]), status: ExitStatus.unavailable,
                               containing: "cannot attach \(tun): it is not a TAP interface")

            let tap = try Tap(subnet: 7, in: namespace)
            expectOneLineError(try nablaRun(["--net", tap.name, "--net", tap.name, image]), status: ExitStatus.usage,
                               containing: "tap \(tap.name) is attached twice")
            #expect(try nablaRun(["--net", tap.name, image]).status == 6)

            let sleeper = try writeImage(sleepingGuest(nanoseconds: 3_000_000_000), in: dir, name: "sleep.nabla")
            let first = try namespace.start(Paths.tender, ["--net", tap.name, sleeper])
            #expect(waitUntilGuestRuns(first))
            expectOneLineError(try nablaRun(["--net", tap.name, image]), status: ExitStatus.inUse,
                               containing: "cannot attach \(tap.name): it is in use by another process")
            first.kill()
            #expect(try nablaRun(["--net", tap.name, image]).status == 6)
        }
    }

    @Test("--net-ipv4 and --net-gw: a bad value, a NIC that is not there, a gateway without an address or off its subnet, twice: one line, status 64",
          .needsRoot("needs root: it creates a network namespace and TAP interfaces"))
    func addressErrors() throws {
        let tap = try Tap(subnet: 12)
        func nablaRun(_ arguments: [String]) throws -> Outcome { try tap.namespace.run(Paths.tender, arguments) }
        try withTemporaryDirectory { dir in
            let image = try writeImage(ELFBuilder(status: 6).build(), in: dir)
            let net = ["--net", tap.name]
            let cases: [([String], String)] = [
                (net + ["--net-ipv4", "10.0.0.2"], "'10.0.0.2' is not ADDR/PREFIX"),
                (net + ["--net-ipv4", "10.0.0.2/33"], "'10.0.0.2/33' is not ADDR/PREFIX"),
                (net + ["--net-ipv4", "net=10.0.0.255/24"], "'10.0.0.255/24' is not ADDR/PREFIX"),
                (net + ["--net-gw", "10.0.0.300"], "'10.0.0.300' is not a gateway address"),
                (["--net-ipv4", "10.0.0.2/24"], "--net-ipv4 without a NIC: attach one with --net TAP"),
                (net + ["--net-ipv4", "x=10.0.0.2/24"], "--net-ipv4 names 'x', but no --net has that name"),
                (net + ["--net-gw", "10.0.0.1"], "--net-gw for NIC 'net', which has no --net-ipv4 address"),
                (net + ["--net-ipv4", "10.0.0.2/24", "--net-gw", "10.0.1.1"], "--net-gw 10.0.1.1 is not in the subnet of --net-ipv4 10.0.0.2/24"),
                (net + ["--net-ipv4", "10.0.0.2/24", "--net-ipv4", "net=10.0.0.3/24"], "--net-ipv4 is given twice for NIC 'net'"),
            ]
            for (arguments, message) in cases {
                expectOneLineError(try nablaRun(arguments + [image]), status: ExitStatus.usage, containing: message)
            }
            #expect(try nablaRun(net + ["--net-ipv4", "10.0.0.2/24", "--net-gw", "10.0.0.1", image]).status == 6)
        }
    }

    @Test("--net-mac: set, checked, and given to the guest", .needsRoot("needs root: it creates a network namespace and TAP interfaces"))
    func mac() throws {
        let tap = try Tap(subnet: 8)
        func nablaRun(_ arguments: [String]) throws -> Outcome { try tap.namespace.run(Paths.tender, arguments) }
        try withTemporaryDirectory { dir in
            let image = try writeImage(ELFBuilder().build(), in: dir)
            expectOneLineError(try nablaRun(["--net", tap.name, "--net-mac", "03:00:00:00:00:01", image]), status: ExitStatus.usage,
                               containing: "is a multicast address")
            expectOneLineError(try nablaRun(["--net", tap.name, "--net-mac", "x=02:00:00:00:00:01", image]), status: ExitStatus.usage,
                               containing: "--net-mac names 'x', but no --net has that name")
            expectOneLineError(try nablaRun(["--net", tap.name, "--net-mac", "02:00:00", image]), status: ExitStatus.usage,
                               containing: "is not a MAC address")
            let traced = try nablaRun(["--trace", "--net", tap.name, "--net-mac", "02:12:34:56:78:9a", image])
            #expect(traced.stderr.contains("device 0 'net': tap \(tap.name), mac 02:12:34:56:78:9a, mtu 1500"), "\(traced)")
            let random = try nablaRun(["--trace", "--net", tap.name, image])
            let line = try #require(random.stderr.split(separator: "\n").first { $0.contains("device 0 'net'") })
            let text = try #require(line.split(separator: " ").drop { $0 != "mac" }.dropFirst().first).dropLast()
            let mac = try #require(MACAddress(parsing: String(text)))
            #expect(mac.bytes.0 & 0x03 == 0x02, "random MACs are locally administered unicast: \(mac)")
        }
    }

    @Test("the policy pins read and write to the tap, and ppoll to one pollfd", .needsRoot("needs root: it creates a network namespace and TAP interfaces"))
    func policy() throws {
        let tap = try Tap(subnet: 9)
        let outcome = try tap.namespace.run(Paths.tender, ["--policy", "--net", tap.name])
        #expect(outcome.status == 0, "\(outcome)")
        #expect(outcome.stdout.contains("allow read (0) if fd == 3 [tap net (\(tap.name))]"))
        #expect(outcome.stdout.contains("allow write (1) if fd == 3 [tap net (\(tap.name))]"))
        #expect(outcome.stdout.contains("[tender pollfd array] && nfds == 1 && tmo == "))
    }

    @Test("netbad: every bad net request gets its code", .needsRoot("needs root: it creates a network namespace and TAP interfaces"))
    func netbad() throws {
        let tap = try Tap(subnet: 10)
        try withTemporaryDirectory { dir in
            let disk = try makeDisk(in: dir, size: 4096)
            let outcome = try tap.namespace.run(Paths.tender, ["--disk", disk, "--net", tap.name, try Paths.guest("netbad")])
            #expect(outcome.status == 0, "\(outcome)")
            #expect(outcome.stdout.contains("all cases ok: 0 mismatches"), "\(outcome.stdout)")
        }
    }
}

@Suite("Disk durability option")
struct DiskSyncTests {
    @Test("--disk-sync opens writable disks with O_DSYNC, and only them")
    func dsync() throws {
        try withTemporaryDirectory { dir in
            let a = try makeDisk(in: dir, name: "a.img", size: 4096), b = try makeDisk(in: dir, name: "b.img", size: 4096)
            let sleeper = try writeImage(sleepingGuest(nanoseconds: 3_000_000_000), in: dir)
            for sync in [true, false] {
                let child = try Child(Paths.tender, ["--disk", a, "--disk-readonly", b] + (sync ? ["--disk-sync"] : []) + [sleeper])
                #expect(waitUntilGuestRuns(child))
                func flags(_ fd: Int) throws -> Int {
                    let info = try String(contentsOfFile: "/proc/\(child.pid)/fdinfo/\(fd)", encoding: .utf8)
                    let line = try #require(info.split(separator: "\n").first { $0.hasPrefix("flags:") })
                    return try #require(Int(line.split(separator: "\t").last ?? "", radix: 8))
                }
                let dsync = Int(O_DSYNC)
                #expect(try flags(3) & dsync == (sync ? dsync : 0), "writable disk, sync \(sync)")
                #expect(try flags(4) & dsync == 0, "read-only disk")
                child.kill()
            }
        }
    }
}
