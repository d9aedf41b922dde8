// The seccomp wall, tested with the real filter: forbidden calls are stopped
// and named, the tender itself makes no call outside the seven after the
// filter is loaded, and the guest starts with only the expected descriptors.

import CNablaTender
import Foundation
import NablaTestSupport
import Testing
@testable import Nabla

private let forbiddenCalls: [(Int, String)] = [(257, "openat"), (39, "getpid"), (9, "mmap"), (59, "execve"), (41, "socket"),
                                                (12, "brk"), (62, "kill"), (317, "seccomp"), (157, "prctl")]

@Suite("Seccomp wall")
struct SecurityTests {
    @Test("a forbidden system call is stopped and named", arguments: forbiddenCalls)
    func forbidden(_ call: (Int, String)) throws {
        let outcome = try nablaRun([try Paths.guest("forbidden"), String(call.0)])
        #expect(outcome.status == ExitStatus.forbiddenSyscall, "\(outcome)")
        #expect(outcome.stderr == "nabla-run: guest made a forbidden system call: \(call.1) (\(call.0))\n")
        #expect(outcome.stdout == "making system call \(call.0)\n", "the call must not return")
    }

    @Test("a number with no name is still reported")
    func unnamed() throws {
        let outcome = try nablaRun([try Paths.guest("forbidden"), "1000"])
        #expect(outcome.status == ExitStatus.forbiddenSyscall)
        #expect(outcome.stderr == "nabla-run: guest made a forbidden system call: unknown (1000)\n")
    }

    @Test("write on any descriptor but stdout is stopped, stderr included", arguments: ["0", "2", "3", "100"])
    func rawWrite(_ fd: String) throws {
        let outcome = try nablaRun([try Paths.guest("rawwrite"), fd])
        #expect(outcome.status == ExitStatus.forbiddenSyscall, "\(outcome)")
        #expect(outcome.stderr == "nabla-run: guest made a forbidden system call: write (1)\n")
        #expect(!outcome.stderr.contains("rawwrite\n"))
    }

    @Test("write on stdout through a raw syscall is allowed: it is the console rule")
    func rawWriteStdout() throws {
        let outcome = try nablaRun([try Paths.guest("rawwrite"), "1"])
        #expect(outcome.status == 0, "\(outcome)")
        #expect(outcome.stdout.hasPrefix("rawwrite\n"))
    }

    @Test("after the filter is loaded, the process makes only the pinned calls",
          arguments: [["hello"], ["clock"], ["--trace", "clock"], ["hypercall-bad"], ["--trace", "hypercall-bad"], ["hello-swift"]])
    func onlyPinnedCallsUnderStrace(_ arguments: [String]) throws {
        let guest = try Paths.guest(arguments.last!)
        let outcome = try run("/usr/bin/strace", ["-f", "-qq", "-e", "signal=none", Paths.tender] + arguments.dropLast() + [guest])
        #expect(outcome.status == 0, "\(outcome)")
        let lines = outcome.stderr.split(separator: "\n").map(String.init)
        let loaded = try #require(lines.firstIndex { $0.hasPrefix("seccomp(SECCOMP_SET_MODE_FILTER") && $0.contains("{len=") },
                                  "no filter was loaded:\n\(outcome.stderr)")
        #expect(lines[loaded].hasSuffix("= 0"))
        var seen = Set<String>()
        for line in lines[(loaded + 1)...] where !line.hasPrefix("+++") && !line.hasPrefix("nabla-run: ") {
            guard let paren = line.firstIndex(of: "(") else { continue }  // trace text interleaved with strace's
            let name = String(line[..<paren])
            seen.insert(name)
            switch name {
            case "write": #expect(line.hasPrefix("write(1, ") || line.hasPrefix("write(2, "), "\(line)")
            case "ppoll": #expect(line.hasPrefix("ppoll([], 0, {") && line.contains("}, NULL, 8)"), "\(line)")
            case "clock_gettime": #expect(["CLOCK_REALTIME,", "CLOCK_MONOTONIC,", "CLOCK_PROCESS_CPUTIME_ID,"].contains { line.hasPrefix("clock_gettime(" + $0) }, "\(line)")
            case "read": #expect(line.hasPrefix("read(0, "), "\(line)")
            case "exit_group": break
            default: Issue.record("system call after the filter: \(line)")
            }
        }
        #expect(seen.contains("exit_group"))
    }

    @Test("the guest starts with only stdin, stdout and stderr open")
    func descriptors() throws {
        try withTemporaryDirectory { dir in
            let image = try writeImage(sleepingGuest(nanoseconds: 3_000_000_000), in: dir)
            // fd 7 is inherited and must not reach the guest; stdin does (stdinread).
            let process = try Child("/bin/sh", ["-c", "exec 7</etc/hostname; exec \"$0\" \"$1\"", Paths.tender, image])
            let pid = process.pid
            var last: [String] = []
            var filtered = false
            let deadline = Date().addingTimeInterval(2.5)
            while Date() < deadline {
                last = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd"))?.sorted() ?? []
                let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
                filtered = status.contains("Seccomp:\t2")
                if filtered && last == ["0", "1", "2"] { break }
                usleep(10_000)
            }
            #expect(filtered, "the filter was never seen loaded")
            #expect(last == ["0", "1", "2"], "open descriptors while the guest runs: \(last)")
        }
    }
}

/// A synthetic guest whose entry sleeps in the poll hypercall, then returns 0.
func sleepingGuest(nanoseconds: UInt64) -> [UInt8] {
    let tableOffset = UInt8(MemoryLayout<nabla_boot_info>.offset(of: \.hypercalls)!)
    let pollOffset = UInt8(MemoryLayout<nabla_hypercalls>.offset(of: \.poll)!)
    var code: [UInt8] = [0x48, 0x8b, 0x47, tableOffset]     // mov rax, [rdi + hypercalls]
    code += [0x48, 0x8b, 0x40, pollOffset]                  // mov rax, [rax + poll]
    code += [0x48, 0xbf] + withUnsafeBytes(of: nanoseconds.littleEndian, Array.init)  // mov rdi, ns
    code += [0x31, 0xf6]                                    // xor esi, esi (ready = NULL)
    code += [0x48, 0x83, 0xec, 0x08, 0xff, 0xd0, 0x48, 0x83, 0xc4, 0x08]  // sub rsp,8; call rax; add rsp,8
    code += [0x31, 0xc0, 0xc3]                              // xor eax, eax; ret
    var builder = ELFBuilder()
    builder.code = code
    builder.programHeaders[0].fileSize = UInt64(code.count)
    builder.programHeaders[0].memorySize = UInt64(code.count)
    return builder.build()
}
