// FastPath.swift: the command line of an ordinary run, parsed without
// ArgumentParser.
//
// ArgumentParser finds a command's options by reflection, which in a static
// binary costs about a millisecond of protocol-conformance lookups: more than
// the rest of a guest's start-up. An invocation made only of the options in
// the RunOption table, well formed, is parsed by that table; anything else
// (help, version, completion scripts, a typo, a bad value) returns nil and
// goes to ArgumentParser, which owns every message. Tests check that both
// parsers agree on whatever this one accepts.

import Glibc
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
        if let configuration = parse(arguments[...]) { return configuration }
        // ArgumentParser cannot declare solo5-spt's `--block:NAME=PATH`
        // spellings, so a malformed one is explained here, with Solo5's status.
        if let problem = Solo5Option.problem(in: arguments[...]) {
            StandardError.write("nabla-run: \(problem)\n")
            exit(ExitStatus.solo5TenderError)
        }
        return nil
    }

    /// The configuration for `arguments` (without the program name), or nil
    /// if ArgumentParser should parse them.
    static func parse(_ arguments: ArraySlice<String>) -> TenderConfiguration? {
        RunOption.parse(arguments)
    }
}
