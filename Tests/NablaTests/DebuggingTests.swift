// Debugging a guest: gdb with the guest's symbols, addr2line on a fault's pc.

import CNablaTender
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
        command.insert(contentsOf: ["-ex", "break args/args.c:6", "-ex", "continue", "-ex", "print argc", "-ex", "print argv[2]",
                                    "-ex", "print/x nabla__info->stack_top", "-ex", "continue"], at: argumentsStart)
        let outcome = try run("/usr/bin/gdb", Array(command.dropFirst()), timeout: 120)
        #expect(outcome.status == 0, "\(outcome.stderr.suffix(800))")
        // argv[0] is the image: argc is 3.
        #expect(outcome.stdout.contains("Breakpoint 2, main (argc=3"), "\(outcome.stdout)")
        #expect(outcome.stdout.contains("$1 = 3"))
        #expect(outcome.stdout.contains("\"world\""))
        let stackTop = UInt64(NABLA_MEM_BASE) + GuestLayout.defaultMemory
        #expect(outcome.stdout.contains("$3 = 0x\(String(stackTop, radix: 16))"), "the stack top of default guest memory")
        #expect(outcome.stdout.contains("argv[2]=world"))
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

    @Test("the addr2line command a fault line gives resolves the fault's pc to the guest's function and source line")
    func addr2line() throws {
        let image = try Paths.guest("attack-fault")
        let outcome = try nablaRun([image, "null"])
        #expect(outcome.status == 139, "\(outcome)")
        // "... (image offset 0x..; addr2line -e IMAGE PC), address 0x0"
        let hint = try #require(outcome.stderr.firstMatch(of: /addr2line -e (\S+) (0x[0-9a-f]+)\)/), "\(outcome.stderr)")
        #expect(String(hint.1) == image)
        let resolved = try run("/usr/bin/addr2line", ["-f", "-e", String(hint.1), String(hint.2)])
        let lines = resolved.stdout.split(separator: "\n")
        #expect(lines.first == "main", "\(resolved)")
        // The line of the null read in attack-fault.c.
        let source = try String(contentsOfFile: Paths.packageRoot.path + "/guests/attack-fault/attack-fault.c", encoding: .utf8)
        let nullRead = try #require(source.split(separator: "\n", omittingEmptySubsequences: false)
            .firstIndex { $0.contains("printf(\"read %d\\n\", *p)") }) + 1
        #expect(lines.last?.hasSuffix("attack-fault.c:\(nullRead)") == true, "\(resolved), expected line \(nullRead)")
    }
}
