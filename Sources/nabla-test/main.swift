// nabla-test: runs test guests, N at a time, each as its own nabla-run,
// and reports pass, fail or skip for each (docs/guests.md).

#if canImport(Glibc)
import Glibc
#endif

/// nabla-test's exit statuses (sysexits, as nabla-run's).
enum ExitStatus {
    static let allPassed: Int32 = 0
    static let someFailed: Int32 = 1
    static let usage: Int32 = 64
    static let noInput: Int32 = 66
    static let unavailable: Int32 = 69
    static let cannotCreate: Int32 = 73
}

func fail(_ message: String, _ status: Int32) -> Never {
    _ = writeAll(2, "nabla-test: \(message)\n")
    exit(status)
}

let options: Options
do throws(UsageError) {
    guard let parsed = try Options.parse(Array(CommandLine.arguments.dropFirst())) else {
        _ = writeAll(1, Options.usage + "\n")
        exit(ExitStatus.allPassed)
    }
    options = parsed
} catch {
    fail(error.message, ExitStatus.usage)
}

do throws(HostError) {
    for guest in options.guests { try checkReadable(guest) }
    for disk in options.disks { try checkReadable(disk.path) }
} catch {
    fail(error.message, ExitStatus.noInput)
}

let nablaRun: String
if options.native {
    nablaRun = ""
} else if let found = Locator.nablaRun(given: options.nablaRun) {
    nablaRun = found
} else {
    fail(options.nablaRun.map { "cannot run \($0): not an executable file" }
         ?? "cannot find nabla-run: install it next to nabla-test, put it on PATH, or give --nabla-run PATH",
         ExitStatus.unavailable)
}

// On a terminal, what a guest printed is shown with its control
// characters escaped (ConsoleReport.terminalSafe); into a pipe or a file
// it is passed on as printed.
let onTerminal = isatty(1) == 1

Interruption.install()
let started = monotonicNanoseconds()
var results: [GuestResult] = []
var tally = Tally()
if options.tap { _ = writeAll(1, "TAP version 13\n1..\(options.guests.count)\n") }
do throws(HostError) {
    let interrupted = try Runner(options: options, nablaRun: nablaRun).run { result in
        results.append(result)
        tally.add(result.verdict)
        let report = options.tap ? ConsoleReport.tap(result, number: results.count) : ConsoleReport.plain(result)
        _ = writeAll(1, onTerminal ? ConsoleReport.terminalSafe(report) : report)
    }
    if let signal = interrupted {
        fail("interrupted by signal \(signal) after \(results.count) of \(options.guests.count) guests: \(tally.summary)", 128 + signal)
    }
} catch {
    fail(error.message, ExitStatus.unavailable)
}
let seconds = Double(monotonicNanoseconds() - started) / 1e9

if let path = options.junitPath {
    do throws(HostError) {
        try writeFile(path, JUnitReport.xml(results, seconds: seconds))
    } catch {
        fail(error.message, ExitStatus.cannotCreate)
    }
}
_ = writeAll(1, (options.tap ? "# " : "") + tally.summary + "\n")
exit(tally.failed == 0 ? ExitStatus.allPassed : ExitStatus.someFailed)
