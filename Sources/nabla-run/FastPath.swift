// FastPath.swift: the command line of an ordinary run, parsed without
// ArgumentParser.
//
// ArgumentParser finds a command's options by reflection, which in a static
// binary costs about a millisecond of protocol-conformance lookups: more than
// the rest of a guest's start-up. An invocation made only of options this
// parser knows, well formed, is parsed here; anything else (help, version,
// completion scripts, a typo, a bad value) returns nil and goes to
// ArgumentParser, which owns every message. Tests check that both parsers
// agree on whatever this one accepts.

import Nabla

enum FastPath {
    /// Parses this process's arguments, read from argv directly:
    /// `CommandLine.arguments` costs more to build than the rest of the parse.
    static func parseProcessArguments() -> TenderConfiguration? {
        var arguments: [String] = []
        let count = Int(CommandLine.argc)
        guard count >= 1 else { return nil }  // execve with an empty argv
        arguments.reserveCapacity(count)
        for index in 1..<count {
            guard let argument = CommandLine.unsafeArgv[index] else { return nil }
            arguments.append(String(cString: argument))
        }
        return parse(arguments[...])
    }

    /// The configuration for `arguments` (without the program name), or nil
    /// if ArgumentParser should parse them.
    static func parse(_ arguments: ArraySlice<String>) -> TenderConfiguration? {
        var configuration = TenderConfiguration(imagePath: "")
        var readOnlyDisks: [DiskConfiguration] = []
        var rest = arguments
        while let argument = rest.first {
            rest = rest.dropFirst()
            switch argument {
            case "--trace":
                configuration.trace = true
            case "--disk-sync":
                configuration.diskSync = true
            case "--core":
                configuration.guards.core = true
            case "--mem", "--disk", "--disk-readonly", "--net", "--net-mac", "--timeout":
                guard let value = rest.first else { return nil }
                rest = rest.dropFirst()
                guard option(argument, value, &configuration, &readOnlyDisks) else { return nil }
            default:
                if argument.hasPrefix("--"), let equals = argument.firstIndex(of: "=") {
                    let name = String(argument[..<equals]), value = String(argument[argument.index(after: equals)...])
                    guard ["--mem", "--disk", "--disk-readonly", "--net", "--net-mac", "--timeout"].contains(name),
                          option(name, value, &configuration, &readOnlyDisks) else { return nil }
                } else if argument.hasPrefix("-") {
                    return nil
                } else {
                    configuration.imagePath = argument
                    configuration.guestArguments = Array(rest)
                    configuration.disks += readOnlyDisks
                    return configuration
                }
            }
        }
        return nil
    }

    /// Applies one option with a value; false if ArgumentParser should
    /// report it. Like ArgumentParser, a value may not begin with a dash.
    private static func option(_ name: String, _ value: String, _ configuration: inout TenderConfiguration,
                               _ readOnlyDisks: inout [DiskConfiguration]) -> Bool {
        guard !value.hasPrefix("-") else { return false }
        switch name {
        case "--mem":
            guard let size = ByteCount(parsing: value) else { return false }
            configuration.memorySize = size.bytes
        case "--disk":
            configuration.disks.append(DiskConfiguration(DeviceSpec(parsing: value)))
        case "--timeout":
            guard let milliseconds = NablaRun.timeoutMilliseconds(value) else { return false }
            configuration.guards.timeoutMilliseconds = milliseconds
        case "--net":
            configuration.nics.append(DeviceSpec(parsing: value))
        case "--net-mac":
            guard let assignment = MACAssignment(parsing: value) else { return false }
            configuration.nicMACs.append(assignment)
        case "--disk-readonly":
            readOnlyDisks.append(DiskConfiguration(DeviceSpec(parsing: value), readOnly: true))
        default:
            return false
        }
        return true
    }
}
