// Debugging a guest: gdb with the guest's symbols, addr2line on a fault's pc.

import Foundation
import Testing
@testable import Nabla

@Suite("Debugging")
struct DebuggingTests {
    @Test("gdb stops at a guest breakpoint and reads guest variables, as docs/debugging.md shows")
    func gdbSession() throws {
        let image = try Paths.guest("args")
        let configuration = TenderConfiguration(imagePath: image, guestArguments: ["hello", "world"])
        // The command --gdb runs, made non-interactive.
        var command = Debugger.commandLine(for: configuration, tender: Paths.tender)
        command.insert("-batch", at: 1)
        let argumentsStart = command.firstIndex(of: "--args")!
        command.insert(contentsOf: ["-ex", "break args/args.c:6", "-ex", "continue", "-ex", "print argc", "-ex", "print argv[1]",
                                    "-ex", "print/x nabla__info->stack_top", "-ex", "continue"], at: argumentsStart)
        let outcome = try run("/usr/bin/gdb", Array(command.dropFirst()), timeout: 120)
        #expect(outcome.status == 0, "\(outcome.stderr.suffix(800))")
        #expect(outcome.stdout.contains("Breakpoint 2, main (argc=2"), "\(outcome.stdout)")
        #expect(outcome.stdout.contains("$1 = 2"))
        #expect(outcome.stdout.contains("\"world\""))
        #expect(outcome.stdout.contains("$3 = 0x64000000"))
        #expect(outcome.stdout.contains("argv[1]=world"))
    }

    @Test("--gdb prints the command it runs")
    func gdbCommand() throws {
        let configuration = TenderConfiguration(imagePath: "app.nabla", guestArguments: ["a b"])
        let command = Debugger.commandLine(for: configuration, tender: "/x/nabla-run")
        #expect(command.contains("add-symbol-file app.nabla"))
        #expect(Array(command.suffix(4)) == ["--args", "/x/nabla-run", "app.nabla", "a b"])
        let sized = TenderConfiguration(imagePath: "app.nabla", memorySize: 64 << 20)
        #expect(Array(Debugger.commandLine(for: sized, tender: "/x/nabla-run").suffix(3)) == ["--mem", "64M", "app.nabla"])
        #expect(Debugger.shellQuoted("a b") == "'a b'")
    }

    @Test("addr2line resolves the pc of a fault line to the guest's source")
    func addr2line() throws {
        let outcome = try nablaRun([try Paths.guest("abort")])
        #expect(outcome.status == 134)
        // abort returns through the exit context; fault lines are tested in the attack suite.
        let inspect = try nablaRun(["--inspect", try Paths.guest("abort")])
        let entryLine = try #require(inspect.stdout.split(separator: "\n").first { $0.hasPrefix("entry:") })
        let entry = try #require(entryLine.split(separator: " ").last)
        let resolved = try run("/usr/bin/addr2line", ["-f", "-e", try Paths.guest("abort"), String(entry)])
        #expect(resolved.stdout.hasPrefix("_start\n"), "\(resolved)")
        #expect(resolved.stdout.contains("start.c:"))
    }
}
