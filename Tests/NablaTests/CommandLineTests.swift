// The fast-path parser agrees with ArgumentParser on everything it accepts,
// and leaves everything else to it.

import Testing
@testable import Nabla
@testable import nabla_run

private let commandLines: [[String]] = [
    ["app.nabla"],
    ["app.nabla", "a", "b"],
    ["--trace", "app.nabla"],
    ["--mem", "32M", "app.nabla"],
    ["--mem=128M", "--trace", "app.nabla", "x"],
    ["--trace", "--mem", "1G", "app.nabla", "--mem", "5", "--trace", "-h"],
    ["app.nabla", "--", "--help"],
    ["--mem", "4096", "--mem", "8K", "app.nabla"],
    ["--trace", "--trace", "app.nabla"],
    ["./dir/app.nabla", "--ipv4=10.0.0.2/24"],
    ["--disk", "a.img", "app.nabla"],
    ["--disk", "data=a.img", "--disk-readonly", "b.img", "--disk", "c.img", "app.nabla", "--disk", "x"],
    ["--disk-readonly=ro=/x/y.img", "--disk=./odd=name.img", "--disk-sync", "app.nabla"],
    ["--disk-sync", "--trace", "--mem", "8M", "--disk", "d.img", "app.nabla"],
    ["--net", "tap0", "app.nabla", "--ipv4=10.0.0.2/24"],
    ["--net", "a=tap0", "--net=tap1", "--net-mac", "02:00:00:00:00:01", "--net-mac=a=02:00:00:00:00:02", "--disk", "x", "app.nabla"],
]

private let leftToArgumentParser: [[String]] = [
    [], ["--help"], ["-h"], ["--version"], ["--mem"], ["--mem", "12Q", "app.nabla"], ["--mem=", "app.nabla"],
    ["--bogus", "app.nabla"], ["--", "app.nabla"], ["--trace"], ["-x", "app.nabla"],
    ["--generate-completion-script", "bash"],
    ["--disk"], ["--disk", "-x", "app.nabla"], ["--net-mac", "zz", "app.nabla"], ["--net-mac", "n=02:00:00:00:00", "app.nabla"], ["--disk-sync=1", "app.nabla"], ["--trace=yes", "app.nabla"],
]

@Suite("Command line")
struct CommandLineTests {
    @Test("the fast path and ArgumentParser agree", arguments: commandLines)
    func agree(_ arguments: [String]) throws {
        let fast = try #require(FastPath.parse(arguments[...]))
        let parsed = try NablaRun.parse(arguments).configuration
        #expect(fast.imagePath == parsed.imagePath)
        #expect(fast.guestArguments == parsed.guestArguments)
        #expect(fast.memorySize == parsed.memorySize)
        #expect(fast.trace == parsed.trace)
        #expect(fast.disks == parsed.disks)
        #expect(fast.diskSync == parsed.diskSync)
        #expect(fast.nics == parsed.nics)
        #expect(fast.nicMACs == parsed.nicMACs)
    }

    @Test("disks are named in order, writable ones first")
    func diskOrder() throws {
        let parsed = try NablaRun.parse(["--disk-readonly", "r.img", "--disk", "w=a.img", "--disk", "b.img", "app.nabla"]).configuration
        #expect(parsed.disks == [DiskConfiguration(DeviceSpec(name: "w", path: "a.img")),
                                 DiskConfiguration(DeviceSpec(path: "b.img")),
                                 DiskConfiguration(DeviceSpec(path: "r.img"), readOnly: true)])
    }

    @Test("the fast path leaves help, errors and unknown options to ArgumentParser", arguments: leftToArgumentParser)
    func declines(_ arguments: [String]) {
        #expect(FastPath.parse(arguments[...]) == nil)
    }

    @Test("guest arguments keep their dashes")
    func passthrough() throws {
        let parsed = try NablaRun.parse(["--trace", "app.nabla", "--mem", "1", "-v"]).configuration
        #expect(parsed.guestArguments == ["--mem", "1", "-v"])
        #expect(parsed.memorySize == GuestLayout.defaultMemory)
    }
}
