// The bundled guests, run through the built nabla-run: stdout and status.

import CNablaTender
import Foundation
import Testing

@Suite("Bundled guests")
struct GuestTests {
    @Test("hello prints its greeting and returns 0")
    func hello() throws {
        let outcome = try nablaRun([try Paths.guest("hello")])
        #expect(outcome.status == 0, "\(outcome)")
        #expect(outcome.stdout == "Hello from a nabla guest!\n")
        #expect(outcome.stderr.isEmpty)
    }

    @Test("hello-swift, written in Embedded Swift, prints its greeting")
    func helloSwift() throws {
        let outcome = try nablaRun([try Paths.guest("hello-swift")])
        #expect(outcome.status == 0, "\(outcome)")
        #expect(outcome.stdout == "Hello from a nabla guest, in Embedded Swift!\n")
    }

    @Test("args receives the image as argv[0], then every guest argument unchanged")
    func args() throws {
        let arguments = ["one", "--mem", "64M", "", "with space", "-x", "ünïcode"]
        let outcome = try nablaRun([try Paths.guest("args")] + arguments)
        #expect(outcome.status == 0, "\(outcome)")
        let image = try Paths.guest("args")
        let argv = [image] + arguments
        let expected = ["argc=\(argv.count)"] + argv.enumerated().map { "argv[\($0.offset)]=\($0.element)" }
        #expect(outcome.stdout == expected.joined(separator: "\n") + "\n")
    }

    @Test("args with no arguments")
    func noArgs() throws {
        let outcome = try nablaRun([try Paths.guest("args")])
        #expect(outcome.stdout == "argc=1\nargv[0]=\(try Paths.guest("args"))\n")
    }

    @Test("clock sleeps through poll and sees both clocks advance")
    func clock() throws {
        let outcome = try nablaRun([try Paths.guest("clock")])
        #expect(outcome.status == 0, "\(outcome)")
        #expect(outcome.stdout.contains("ok monotonic advanced"))
        #expect(!outcome.stdout.contains("FAIL"))
    }

    @Test("exit returns the status given, from deep inside the guest", arguments: [0, 1, 42, 200, 255])
    func exit(_ status: Int32) throws {
        let outcome = try nablaRun([try Paths.guest("exit"), String(status)])
        #expect(outcome.status == status, "\(outcome)")
        #expect(outcome.stderr.isEmpty)
    }

    @Test("a status above 255 is taken modulo 256")
    func exitModulo() throws {
        #expect(try nablaRun([try Paths.guest("exit"), "257"]).status == 1)
    }

    @Test("abort unwinds to the entry and returns 134")
    func abort() throws {
        let outcome = try nablaRun([try Paths.guest("abort")])
        #expect(outcome.status == 134, "\(outcome)")
        #expect(outcome.stdout.contains("abort"))
    }

    @Test("every hypercall refuses bad arguments with its documented code")
    func badArguments() throws {
        let outcome = try nablaRun([try Paths.guest("hypercall-bad")])
        #expect(outcome.status == 0, "\(outcome)")
        #expect(outcome.stdout.contains("all cases ok: 0 mismatches"), "\(outcome)")
        #expect(outcome.stderr.isEmpty)
    }

    @Test("--trace prints each hypercall and leaves the guest's output alone")
    func trace() throws {
        let plain = try nablaRun([try Paths.guest("clock")])
        let traced = try nablaRun(["--trace", try Paths.guest("clock")])
        #expect(traced.status == plain.status)
        #expect(traced.stdout.split(separator: "\n").count == plain.stdout.split(separator: "\n").count)
        #expect(traced.stderr.contains("nabla-run: hypercall walltime(clock=1) = "))
        #expect(traced.stderr.contains("nabla-run: hypercall walltime(clock=7) = -2"))
        #expect(traced.stderr.contains("nabla-run: hypercall poll(timeout_ns="))
        #expect(traced.stderr.contains("nabla-run: hypercall puts(buf=0x"))
        #expect(traced.stderr.contains("nabla-run: entry 0x601"))
    }

    @Test("--trace reports refused device hypercalls with their codes")
    func traceErrors() throws {
        let traced = try nablaRun(["--trace", try Paths.guest("hypercall-bad")])
        #expect(traced.status == 0, "\(traced)")
        #expect(traced.stderr.contains("nabla-run: hypercall blkread(dev=999, offset=0, buf=0x"))
        #expect(traced.stderr.contains(") = -4"))
        #expect(traced.stderr.contains("nabla-run: hypercall puts(buf=0x1000, len="))
    }

    @Test("a closed stdout makes puts fail with NABLA_EIO instead of killing the tender")
    func closedStdout() throws {
        let greeting = "Hello from a nabla guest!\n"
        let outcome = try run("/bin/sh", ["-c", "exec \"$0\" --trace \"$1\" >&-", Paths.tender, try Paths.guest("hello")])
        // hello ignores printf's result and returns 0; the one puts it makes fails.
        #expect(outcome.status == 0, "\(outcome)")
        let puts = outcome.stderr.split(separator: "\n").filter { $0.hasPrefix("nabla-run: hypercall puts(") }
        #expect(puts.count == 1, "\(outcome.stderr)")
        #expect(puts.first?.hasSuffix(", len=\(greeting.utf8.count)) = \(NABLA_EIO)") == true, "\(puts)")
    }
}

@Suite("Library OS")
struct LibraryOSTests {
    @Test("libos-test: printf, parsing, strings, math and the allocator pass their self-checks")
    func selfTest() throws {
        let outcome = try nablaRun([try Paths.guest("libos-test")])
        #expect(outcome.status == 0, "\(outcome)")
        #expect(outcome.stdout.contains(", 0 failures"), "\(outcome.stdout.suffix(500))")
    }

    @Test("string-test: the library OS's memcpy, memmove, memset and strlen are the ones linked and agree with byte loops (sizes 0-300 at every alignment, overlap both ways, up to 1 MiB)")
    func stringFunctions() throws {
        let outcome = try nablaRun([try Paths.guest("string-test")], timeout: 300)
        #expect(outcome.status == 0, "\(outcome)")
        #expect(outcome.stdout.hasSuffix(", 0 failures\n"), "\(outcome.stdout.suffix(500))")
    }

    @Test("the guests' libc.a has no memcpy, memmove, memset or strlen of newlib's: only the library OS's can be linked")
    func newlibStringFunctionsRemoved() throws {
        let libc = URL(fileURLWithPath: Paths.guests).appendingPathComponent("libc/lib/libc.a").path
        let nm = try run("/usr/bin/nm", ["-g", "--defined-only", libc])
        try #require(nm.status == 0 && nm.stdout.contains(" T printf\n"), "\(nm)")
        let newlibs = nm.stdout.split(separator: "\n").filter { line in
            ["memcpy", "memmove", "memset", "strlen"].contains { line.hasSuffix(" T " + $0) }
        }
        #expect(newlibs.isEmpty, "\(newlibs)")
    }
}
