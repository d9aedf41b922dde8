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

/// The TAP a guest printed on its standard output.
struct TAPReport {
    var cases: [TestCase] = []
    /// The plan (`1..N`), if the guest printed one.
    var planned: Int?
    /// The reason of `1..0 # SKIP reason`.
    var skipAllReason: String?

    /// Parses TAP 13/14 result lines, plans and `Bail out!`; other lines
    /// are ignored, and indented lines (subtests) too.
    init(_ output: String) {
        var diagnostics: [String] = []
        for line in output.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("#") {
                diagnostics.append(String(line.dropFirst().drop { $0 == " " }))
            } else if line.hasPrefix("Bail out!") {
                // The guest gave up: a failure whatever its status.
                let reason = line.dropFirst("Bail out!".count).drop { $0 == " " }
                cases.append(TestCase(name: "bail out", verdict: .failed(reason.isEmpty ? "bail out" : String(reason)),
                                      diagnostics: diagnostics))
                diagnostics = []
            } else if line.hasPrefix("1..") {
                let (plan, directive) = Self.splitDirective(line.dropFirst(3))
                planned = Int(plan.trimmingSpaces())
                if planned == 0, let directive, directive.lowercased().hasPrefix("skip") {
                    skipAllReason = String(directive.dropFirst(4).drop { $0 == " " })
                }
            } else if let result = Self.result(line, diagnostics) {
                cases.append(result)
                diagnostics = []
            }
        }
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

    init(name: String, path: String, status: Int32, killed: Bool, seconds: Double, timeout: Double,
         stdout: String, stderr: String) {
        self.name = name
        self.path = path
        self.status = status
        self.killed = killed
        self.seconds = seconds
        self.stdout = stdout
        self.stderr = stderr
        tap = TAPReport(stdout)
        verdict = Self.verdict(status: status, killed: killed, timeout: timeout, stderr: stderr, tap: tap)
    }

    private static func verdict(status: Int32, killed: Bool, timeout: Double, stderr: String, tap: TAPReport) -> Verdict {
        // The tender's own line about the guest, if it printed one.
        let tenderLine = stderr.split(separator: "\n").first { $0.hasPrefix("nabla-run: ") }
            .map { ": " + $0.dropFirst("nabla-run: ".count) } ?? ""
        if killed || status == 124 { return .failed("timed out after \(formatSeconds(timeout))") }
        switch status {
        case 0:
            let failed = tap.cases.filter { if case .failed = $0.verdict { true } else { false } }
            if !failed.isEmpty {
                return .failed("exit status 0, but \(failed.count) test case\(failed.count == 1 ? "" : "s") failed: \(failed[0].name)")
            }
            if let planned = tap.planned, planned != tap.cases.count, tap.skipAllReason == nil {
                return .failed("planned \(planned) test cases, reported \(tap.cases.count)")
            }
            return .passed
        case skipStatus:
            let reason = tap.skipAllReason
                ?? tap.cases.lazy.compactMap { if case .skipped(let r) = $0.verdict { r } else { nil } }.first
                ?? "exit status 77"
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
