// Result.swift: what a guest's run means: pass, fail or skip, its
// reason, and the test cases it reported as TAP lines.

/// How a test (a guest, or a case inside one) ended.
enum Verdict: Equatable {
    case passed
    case failed(String)
    case skipped(String)
}

/// One TAP result line of a guest (`ok 3 - name`, `not ok 4 - name`),
/// with the diagnostic lines (`# ...`) printed since the previous one.
struct TestCase {
    var name: String
    var verdict: Verdict
    var diagnostics: [String]
}

/// The TAP a guest printed on its standard output, parsed as it arrives:
/// every line counts, however much the guest prints; only what is kept
/// for the report is bounded (`caseLimit` cases, `diagnosticLimit`
/// diagnostic lines each, `lineLimit` bytes of a line).
struct TAPReport {
    /// The first `caseLimit` test cases, for the JUnit file.
    private(set) var cases: [TestCase] = []
    /// Every result line, counted: `ok`, `not ok` and `Bail out!`.
    private(set) var caseCount = 0
    private(set) var failedCount = 0
    /// The name of the first case that failed.
    private(set) var firstFailure: String?
    /// The reason of the first skipped case.
    private(set) var firstSkipReason: String?
    /// The plan (`1..N`), if the guest printed one.
    private(set) var planned: Int?
    /// The reason of `1..0 # SKIP reason`.
    private(set) var skipAllReason: String?

    static let caseLimit = 10_000
    static let diagnosticLimit = 100
    static let lineLimit = 4096

    private var diagnostics: [String] = []
    /// The line being read; `overlong` once it passed `lineLimit`.
    private var line: [UInt8] = []
    private var overlong = false

    /// Parses the complete lines of `bytes`; keeps a partial last line for
    /// the next call.
    mutating func consume(_ bytes: some Sequence<UInt8>) {
        for byte in bytes {
            if byte == UInt8(ascii: "\n") {
                endLine()
            } else if line.count < Self.lineLimit {
                line.append(byte)
            } else {
                overlong = true
            }
        }
    }

    /// Parses a last line without a newline.
    mutating func finish() {
        if !line.isEmpty || overlong { endLine() }
    }

    private mutating func endLine() {
        parse(Substring(String(decoding: line, as: UTF8.self)))
        line.removeAll(keepingCapacity: true)
        overlong = false
    }

    /// Parses one TAP 13/14 result line, plan or `Bail out!`; other lines
    /// are ignored, and indented lines (subtests) too.
    private mutating func parse(_ line: Substring) {
        if line.hasPrefix("#") {
            if diagnostics.count < Self.diagnosticLimit {
                diagnostics.append(String(line.dropFirst().drop { $0 == " " }))
            }
        } else if line.hasPrefix("Bail out!") {
            // The guest gave up: a failure whatever its status.
            let reason = line.dropFirst("Bail out!".count).drop { $0 == " " }
            add(TestCase(name: "bail out", verdict: .failed(reason.isEmpty ? "bail out" : String(reason)),
                         diagnostics: diagnostics))
        } else if line.hasPrefix("1..") {
            let (plan, directive) = Self.splitDirective(line.dropFirst(3))
            planned = Int(plan.trimmingSpaces())
            if planned == 0, let directive, directive.lowercased().hasPrefix("skip") {
                skipAllReason = String(directive.dropFirst(4).drop { $0 == " " })
            }
        } else if let result = Self.result(line, diagnostics) {
            add(result)
        }
    }

    private mutating func add(_ testCase: TestCase) {
        caseCount += 1
        switch testCase.verdict {
        case .passed: break
        case .failed:
            failedCount += 1
            if firstFailure == nil { firstFailure = testCase.name }
        case .skipped(let reason):
            if firstSkipReason == nil { firstSkipReason = reason }
        }
        if cases.count < Self.caseLimit { cases.append(testCase) }
        diagnostics = []
    }

    /// `ok N - description # directive` or `not ok ...`.
    private static func result(_ line: Substring, _ diagnostics: [String]) -> TestCase? {
        let passed: Bool
        var rest: Substring
        if line.hasPrefix("ok") { passed = true; rest = line.dropFirst(2) }
        else if line.hasPrefix("not ok") { passed = false; rest = line.dropFirst(6) }
        else { return nil }
        guard rest.isEmpty || rest.first == " " else { return nil }
        rest = rest.drop { $0 == " " }
        let number = rest.prefix { $0.isNumber }
        rest = rest.dropFirst(number.count).drop { $0 == " " }
        if rest.hasPrefix("- ") { rest = rest.dropFirst(2) }
        let (description, directive) = splitDirective(rest)
        var name = description.trimmingSpaces()
        if name.isEmpty { name = number.isEmpty ? "case" : "case \(number)" }
        if let directive {
            let word = directive.prefix { $0 != " " }.lowercased()
            let reason = String(directive.dropFirst(word.count).drop { $0 == " " })
            if word == "skip" { return TestCase(name: name, verdict: .skipped(reason), diagnostics: diagnostics) }
            // The TODO directive marks an expected failure: it does not count.
            if word == "todo" { return TestCase(name: name, verdict: .passed, diagnostics: diagnostics) }
        }
        let verdict: Verdict = passed ? .passed : .failed(diagnostics.first ?? "failed")
        return TestCase(name: name, verdict: verdict, diagnostics: diagnostics)
    }

    /// Splits "text # DIRECTIVE" at the first unescaped '#'.
    private static func splitDirective(_ text: Substring) -> (Substring, Substring?) {
        var previous: Character = " "
        for index in text.indices {
            if text[index] == "#" && previous != "\\" {
                return (text[..<index], text[text.index(after: index)...].drop { $0 == " " })
            }
            previous = text[index]
        }
        return (text, nil)
    }
}

extension Substring {
    func trimmingSpaces() -> String {
        String(drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" || $0 == "\r" }.reversed())
    }
}

/// One guest's run, finished.
struct GuestResult {
    /// The image's file name without `.nabla`.
    var name: String
    var path: String
    /// nabla-run's exit status (0-255, or 128 + a signal).
    var status: Int32
    /// nabla-test itself stopped it.
    var killed: Bool
    var seconds: Double
    var stdout: String
    var stderr: String
    var tap: TAPReport
    var verdict: Verdict

    /// The status a guest exits with to say "skipped" (automake's, 77).
    static let skipStatus: Int32 = 77
    /// nabla-run's status when its --timeout stopped the guest.
    static let timeoutStatus: Int32 = 124

    /// `stdout` and `stderr` are what is shown of the output; `tap` was
    /// parsed from all of it.
    init(name: String, path: String, status: Int32, killed: Bool, seconds: Double, timeout: Double,
         stdout: String, stderr: String, tap: TAPReport) {
        self.name = name
        self.path = path
        self.status = status
        self.killed = killed
        self.seconds = seconds
        self.stdout = stdout
        self.stderr = stderr
        self.tap = tap
        verdict = Self.verdict(status: status, killed: killed, seconds: seconds, timeout: timeout, stderr: stderr, tap: tap)
    }

    private static func verdict(status: Int32, killed: Bool, seconds: Double, timeout: Double, stderr: String,
                                tap: TAPReport) -> Verdict {
        // The tender's own line about the guest, if it printed one.
        let tenderLine = stderr.split(separator: "\n").first { $0.hasPrefix("nabla-run: ") }
            .map { ": " + $0.dropFirst("nabla-run: ".count) } ?? ""
        // Timed out: nabla-test killed it at its deadline, or nabla-run's
        // --timeout did (status 124) and the time has indeed run out. A
        // guest that returns 124 at once failed with that status.
        if killed || (status == timeoutStatus && seconds >= timeout) {
            return .failed("timed out after \(formatSeconds(timeout))")
        }
        switch status {
        case 0:
            if let first = tap.firstFailure {
                return .failed("exit status 0, but \(tap.failedCount) test case\(tap.failedCount == 1 ? "" : "s") failed: \(first)")
            }
            if let planned = tap.planned, planned != tap.caseCount, tap.skipAllReason == nil {
                return .failed("planned \(planned) test cases, reported \(tap.caseCount)")
            }
            return .passed
        case skipStatus:
            let reason = tap.skipAllReason ?? tap.firstSkipReason ?? "exit status 77"
            return .skipped(reason)
        case 159: return .failed("forbidden system call\(tenderLine)")
        case 129...158: return .failed("faulted (status \(status))\(tenderLine)")
        default: return .failed("exit status \(status)\(tenderLine)")
        }
    }
}

/// "1.5 s", "30 s", "0.25 s".
func formatSeconds(_ seconds: Double) -> String {
    seconds == seconds.rounded() ? "\(Int(seconds)) s" : "\(seconds) s"
}

/// Milliseconds with one decimal: "12.3 ms".
func formatMilliseconds(_ seconds: Double) -> String {
    let tenths = Int((seconds * 10_000).rounded())
    return "\(tenths / 10).\(tenths % 10) ms"
}
