// Options.swift: the nabla-test command line.
//
// Parsed by hand rather than with ArgumentParser: nabla-test is started
// once per suite and must be quick, and its options are a small fixed
// table plus the nabla-run options it passes through.

#if canImport(Glibc)
import Glibc
#endif

/// What the command line asked for.
struct Options {
    /// Guests run at the same time.
    var jobs: Int = max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
    /// Seconds a guest may run before it is stopped and counted as failed.
    var timeout: Double = 30
    /// Where to write JUnit XML, if anywhere.
    var junitPath: String?
    /// Print TAP instead of the human-readable lines.
    var tap = false
    /// The nabla-run to use; nil means "find it" (Locator).
    var nablaRun: String?
    /// Run each GUEST as a native executable instead (for baselines).
    var native = false
    /// nabla-run options given to every guest, writable disks excepted.
    var passThrough: [String] = []
    /// Writable disks (`--disk [NAME=]PATH`): each guest gets its own copy.
    var disks: [DiskOption] = []
    /// The test guests, in the order given.
    var guests: [String] = []
    /// Arguments given to every guest (after `--`).
    var guestArguments: [String] = []
}

/// A `--disk [NAME=]PATH` option.
struct DiskOption {
    var name: String?
    var path: String
}

/// A command-line mistake: one line, exit status 64.
struct UsageError: Error {
    let message: String
    init(_ message: String) { self.message = message }
}

extension Options {
    static let usage = """
        usage: nabla-test [-j N] [--timeout SECONDS] [--junit FILE] [--tap] [--nabla-run PATH] [--native]
                          [nabla-run options] GUEST... [-- GUEST-ARGS...]

        Runs each GUEST (a nabla image; exit status 0 passes, 77 skips) as its own
        nabla-run, N at a time, and prints one line per guest and a summary.

          -j, --jobs N         guests run at the same time (default: the number of cores)
          --timeout SECONDS    stop a guest after this long and fail it (default 30)
          --junit FILE         also write JUnit XML to FILE
          --tap                print TAP version 13 instead of plain lines
          --nabla-run PATH     the nabla-run to use (default: next to nabla-test, then PATH)
          --native             run each GUEST as a native program (a baseline for benchmarks)
          --mem SIZE, --disk [NAME=]PATH, --disk-readonly [NAME=]PATH, --disk-sync, --trace,
          --env KEY=VALUE      passed to nabla-run; each guest gets its own copy of every --disk
          -h, --help           this text

        Exit status: 0 all passed or skipped, 1 a guest failed, 64 bad command line,
        66 a guest or disk cannot be read, 69 nabla-run not found, 73 a file cannot be created,
        128+N stopped by signal N (the guests are stopped and the disk copies removed).
        """

    /// nabla-run options taking a value, passed through unchanged.
    private static let passedWithValue: Set<String> = ["--mem", "--disk-readonly", "--env"]
    /// nabla-run flags passed through unchanged.
    private static let passedFlags: Set<String> = ["--disk-sync", "--trace"]

    /// Parses the arguments after the program name. Returns nil for --help.
    static func parse(_ arguments: [String]) throws(UsageError) -> Options? {
        var options = Options()
        var index = 0
        func value(_ name: String, _ inline: String?) throws(UsageError) -> String {
            if let inline { return inline }
            index += 1
            guard index < arguments.count else { throw UsageError("\(name) needs a value") }
            return arguments[index]
        }
        while index < arguments.count {
            let argument = arguments[index]
            if argument == "--" {
                options.guestArguments = Array(arguments[(index + 1)...])
                break
            }
            guard argument.hasPrefix("-"), argument != "-" else {
                options.guests.append(argument)
                index += 1
                continue
            }
            // --name=value is accepted for every option with a value, and
            // -jN for -j N.
            var name = argument, inline: String?
            if argument.hasPrefix("--"), let equals = argument.firstIndex(of: "=") {
                name = String(argument[..<equals])
                inline = String(argument[argument.index(after: equals)...])
            } else if argument.hasPrefix("-j"), argument.count > 2 {
                name = "-j"
                inline = String(argument.dropFirst(2))
            }
            switch name {
            case "-h", "--help":
                return nil
            case "-j", "--jobs":
                let text = try value(name, inline)
                guard let jobs = Int(text), jobs >= 1, jobs <= 4096 else {
                    throw UsageError("'\(text)' is not a number of jobs: give 1 to 4096")
                }
                options.jobs = jobs
            case "--timeout":
                let text = try value(name, inline)
                guard let seconds = Double(text), seconds > 0, seconds <= 31_536_000 else {
                    throw UsageError("'\(text)' is not a timeout: give seconds, such as 10 or 0.5")
                }
                options.timeout = seconds
            case "--junit":
                options.junitPath = try value(name, inline)
            case "--tap":
                options.tap = true
            case "--nabla-run":
                options.nablaRun = try value(name, inline)
            case "--native":
                options.native = true
            case "--disk":
                let text = try value(name, inline)
                options.disks.append(DiskOption(text))
            case "--net", "--net-mac", "--gdb", "--core", "--audit", "--policy", "--inspect":
                throw UsageError("\(name) cannot be used with nabla-test (run the guest with nabla-run)")
            default:
                if passedWithValue.contains(name) {
                    options.passThrough += [name, try value(name, inline)]
                } else if passedFlags.contains(name), inline == nil {
                    options.passThrough.append(name)
                } else {
                    throw UsageError("unknown option '\(argument)' (see nabla-test --help)")
                }
            }
            index += 1
        }
        guard !options.guests.isEmpty else { throw UsageError("no guests given (see nabla-test --help)") }
        if options.native && !(options.disks.isEmpty && options.passThrough.isEmpty) {
            throw UsageError("--native runs programs without nabla-run: nabla-run options cannot be given")
        }
        return options
    }
}

extension DiskOption {
    /// `NAME=PATH` or `PATH`, as nabla-run spells it. A path with '=' in a
    /// directory name is a path; a name is a short word before the first '='.
    init(_ text: String) {
        if let equals = text.firstIndex(of: "="), !text[..<equals].contains("/"), equals != text.startIndex {
            name = String(text[..<equals])
            path = String(text[text.index(after: equals)...])
        } else {
            name = nil
            path = text
        }
    }
}
