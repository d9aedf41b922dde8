// The fast-path parser agrees with ArgumentParser on everything it accepts,
// and leaves everything else to it.

import Testing
@testable import Nabla
@testable import nabla_run_cli

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
    ["--timeout", "0.5", "--core", "app.nabla"],
    ["--timeout=10", "--core", "--core", "--trace", "app.nabla", "--timeout", "x"],
    ["--block-sector-size", "storage=4096", "--disk", "storage=s.img", "app.spt"],
    ["--env", "A=1", "--env=B=x=y", "--env", "EMPTY=", "app.nabla", "--env", "C=3"],
]

private let leftToArgumentParser: [[String]] = [
    [], ["--help"], ["-h"], ["--version"], ["--mem"], ["--mem", "12Q", "app.nabla"], ["--mem=", "app.nabla"],
    ["--bogus", "app.nabla"], ["--trace"], ["-x", "app.nabla"],
    ["--generate-completion-script", "bash"],
    ["--disk"], ["--disk", "-x", "app.nabla"], ["--timeout", "-1", "app.nabla"], ["--timeout", "0", "app.nabla"], ["--core=1", "app.nabla"], ["--net-mac", "zz", "app.nabla"], ["--net-mac", "n=02:00:00:00:00", "app.nabla"], ["--disk-sync=1", "app.nabla"], ["--trace=yes", "app.nabla"],
    ["--env", "NOEQUALS", "app.nabla"], ["--env", "=value", "app.nabla"], ["--env"],
]

@Suite("Command line")
struct CommandLineTests {
    @Test("the fast path and ArgumentParser agree", arguments: commandLines)
    func agree(_ arguments: [String]) throws {
        let fast = try #require(RunOption.parse(arguments[...]))
        let parsed = try NablaRun.parse(arguments).configuration
        #expect(fast == parsed)
    }

    @Test("random command lines over every option, in both spellings, parse to the same whole configuration both ways and round-trip through commandLine")
    func randomCommandLines() throws {
        var random = SplitMix64(seed: 0x6e61626c61)
        let values: [RunOption: [String]] = [
            .mem: ["64M", "1G", "4096", "8K", "128M"],
            .disk: ["a.img", "n1=b.img", "./x=y.img", "/abs/d.img"],
            .diskReadOnly: ["r.img", "ro=/r/s.img"],
            .net: ["tap0", "n=tap1", "t2=nltap9"],
            .netMAC: ["02:00:00:00:00:01", "n=02:00:00:00:00:02", "02-00-00-00-00-03"],
            .timeout: ["0.5", "10", "1.25", "31536000"],
            .blockSectorSize: ["storage=512", "d1=4096"],
            .env: ["A=1", "PATH=/bin:/usr/bin", "E=", "K=a=b"],
        ]
        for _ in 0..<300 {
            var arguments: [String] = []
            for _ in 0..<random.next(below: 9) {
                let option = RunOption.allCases[random.next(below: RunOption.allCases.count)]
                guard option.takesValue else { arguments.append(option.rawValue); continue }
                let choices = values[option]!
                let value = choices[random.next(below: choices.count)]
                arguments += random.next(below: 2) == 0 ? [option.rawValue, value] : ["\(option.rawValue)=\(value)"]
            }
            arguments.append("app.nabla")
            let guest = ["-x", "--mem", "5", "a b", "--"]
            for _ in 0..<random.next(below: 3) { arguments.append(guest[random.next(below: guest.count)]) }
            let fast = try #require(RunOption.parse(arguments[...]), "the fast path declined \(arguments)")
            let parsed = try NablaRun.parse(arguments).configuration
            #expect(fast == parsed, "\(arguments)")
            #expect(RunOption.parse(fast.commandLine[...]) == fast, "commandLine of \(arguments): \(fast.commandLine)")
        }
    }

    @Test("every option of the table is declared to ArgumentParser, and every declared option is in the table or a mode")
    func tableMatchesDeclarations() {
        // The options section only: the discussion above it quotes solo5-spt's spellings.
        let fullHelp = NablaRun.helpMessage(columns: 400)
        let help = fullHelp.range(of: "OPTIONS:").map { String(fullHelp[$0.upperBound...]) } ?? fullHelp
        let declared = Set(help.split(whereSeparator: { !($0.isLetter || $0.isNumber || $0 == "-") }).filter { $0.hasPrefix("--") && $0.count > 2 }.map(String.init))
        let table = Set(RunOption.allCases.map(\.rawValue))
        let modes: Set = ["--policy", "--inspect", "--audit", "--audit-native", "--audit-kernel", "--json", "--audit-out", "--seccomp-profile", "--merge",
                          "--gdb", "--help", "--version", "--generate-completion-script"]
        #expect(table.isSubset(of: declared), "not declared: \(table.subtracting(declared))")
        #expect(declared.subtracting(table).subtracting(modes).isEmpty, "declared but in no table: \(declared.subtracting(table).subtracting(modes))")
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
        #expect(RunOption.parse(arguments[...]) == nil)
    }

    @Test("--env keeps order, values with '=' and empty values")
    func environment() throws {
        let parsed = try NablaRun.parse(["--env", "A=1", "--env=B=x=y", "--env", "E=", "app.nabla"]).configuration
        #expect(parsed.environment.map(\.description) == ["A=1", "B=x=y", "E="])
        #expect(parsed.environment[1].key == "B" && parsed.environment[1].value == "x=y")
    }

    @Test("guest arguments keep their dashes")
    func passthrough() throws {
        let parsed = try NablaRun.parse(["--trace", "app.nabla", "--mem", "1", "-v"]).configuration
        #expect(parsed.guestArguments == ["--mem", "1", "-v"])
        #expect(parsed.memorySize == nil)  // the image's default
    }
}

/// A small deterministic generator, so a failing random command line is the
/// same on every run.
struct SplitMix64 {
    private var state: UInt64
    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }

    mutating func next(below bound: Int) -> Int { Int(next() % UInt64(bound)) }
}
