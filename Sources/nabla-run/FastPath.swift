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
        arguments.reserveCapacity(Int(CommandLine.argc))
        for index in 1..<Int(CommandLine.argc) {
            guard let argument = CommandLine.unsafeArgv[index] else { return nil }
            arguments.append(String(cString: argument))
        }
        return parse(arguments[...])
    }

    /// The configuration for `arguments` (without the program name), or nil
    /// if ArgumentParser should parse them.
    static func parse(_ arguments: ArraySlice<String>) -> TenderConfiguration? {
        var memory = GuestLayout.defaultMemory
        var trace = false
        var rest = arguments
        while let argument = rest.first {
            if argument == "--trace" {
                trace = true
            } else if argument == "--mem" || argument.hasPrefix("--mem=") {
                let value: String
                if argument == "--mem" {
                    rest = rest.dropFirst()
                    guard let next = rest.first else { return nil }
                    value = next
                } else {
                    value = String(argument.dropFirst("--mem=".count))
                }
                guard let size = ByteCount(parsing: value) else { return nil }
                memory = size.bytes
            } else if argument.hasPrefix("-") {
                return nil
            } else {
                return TenderConfiguration(imagePath: argument, guestArguments: Array(rest.dropFirst()),
                                           memorySize: memory, trace: trace)
            }
            rest = rest.dropFirst()
        }
        return nil
    }
}
