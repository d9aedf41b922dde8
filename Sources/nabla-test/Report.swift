// Report.swift: what nabla-test prints as guests finish (plain lines or
// TAP), the closing count, and the JUnit XML file.

/// Counts of guests by verdict.
struct Tally {
    var passed = 0, failed = 0, skipped = 0

    mutating func add(_ verdict: Verdict) {
        switch verdict {
        case .passed: passed += 1
        case .failed: failed += 1
        case .skipped: skipped += 1
        }
    }

    /// `N passed, N failed` and `, N skipped` when there were any.
    var summary: String {
        "\(passed) passed, \(failed) failed" + (skipped > 0 ? ", \(skipped) skipped" : "")
    }
}

/// The lines printed for each finished guest.
enum ConsoleReport {
    /// `PASS  name  (1.2 ms)`; a failure adds its reason and the guest's
    /// output, each line indented behind `| `.
    static func plain(_ result: GuestResult) -> String {
        let time = formatMilliseconds(result.seconds)
        switch result.verdict {
        case .passed:
            return "PASS  \(result.name)  (\(time))\n"
        case .skipped(let reason):
            return "SKIP  \(result.name)  (\(reason), \(time))\n"
        case .failed(let reason):
            return "FAIL  \(result.name)  (\(reason), \(time))\n" + quoted(result)
        }
    }

    /// One TAP line per guest; a failure's output follows as comments.
    static func tap(_ result: GuestResult, number: Int) -> String {
        let time = formatMilliseconds(result.seconds)
        switch result.verdict {
        case .passed:
            return "ok \(number) - \(result.name) # time=\(time)\n"
        case .skipped(let reason):
            return "ok \(number) - \(result.name) # SKIP \(reason)\n"
        case .failed(let reason):
            var text = "not ok \(number) - \(result.name)\n# \(reason) (\(time))\n"
            for line in outputLines(result) { text += "# \(line)\n" }
            return text
        }
    }

    /// `text` as it may go to a terminal: every control character but
    /// newline and tab (C0, DEL, C1) shown as `\x1B`, so that a guest's
    /// output cannot move the cursor or redraw a line printed before it.
    static func terminalSafe(_ text: String) -> String {
        var out = ""
        out.unicodeScalars.reserveCapacity(text.unicodeScalars.count)
        for scalar in text.unicodeScalars {
            let value = scalar.value
            if (value < 0x20 && scalar != "\n" && scalar != "\t") || (0x7F...0x9F).contains(value) {
                let hex = String(value, radix: 16, uppercase: true)
                out += "\\x" + (hex.count == 1 ? "0" + hex : hex)
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    private static func quoted(_ result: GuestResult) -> String {
        outputLines(result).map { "      | \($0)\n" }.joined()
    }

    /// The guest's stdout, then stderr, without a trailing empty line.
    private static func outputLines(_ result: GuestResult) -> [Substring] {
        var lines = result.stdout.split(separator: "\n", omittingEmptySubsequences: false)
        if lines.last == "" { lines.removeLast() }
        var errors = result.stderr.split(separator: "\n", omittingEmptySubsequences: false)
        if errors.last == "" { errors.removeLast() }
        return lines + errors
    }
}

/// JUnit XML as Jenkins, GitLab and GitHub read it: one <testsuite> per
/// guest, with a <testcase> for the guest itself and one for each TAP
/// test case it printed.
enum JUnitReport {
    static func xml(_ results: [GuestResult], seconds: Double) -> String {
        var tally = Tally()
        for result in results { tally.add(result.verdict) }
        var xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        xml += "<testsuites name=\"nabla-test\" tests=\"\(results.count)\" failures=\"\(tally.failed)\""
            + " skipped=\"\(tally.skipped)\" errors=\"0\" time=\"\(seconds)\">\n"
        for result in results {
            let cases = result.tap.cases
            let failures = (result.verdict.isFailure ? 1 : 0) + cases.filter(\.verdict.isFailure).count
            let skipped = (result.verdict.isSkip ? 1 : 0) + cases.filter(\.verdict.isSkip).count
            xml += "  <testsuite name=\"\(escape(result.name))\" tests=\"\(cases.count + 1)\""
                + " failures=\"\(failures)\" skipped=\"\(skipped)\" errors=\"0\" time=\"\(result.seconds)\">\n"
            xml += "    <testcase classname=\"\(escape(result.name))\" name=\"\(escape(result.name))\" time=\"\(result.seconds)\">\n"
            xml += element(for: result.verdict, detail: result.stdout + result.stderr)
            if !result.stdout.isEmpty { xml += "      <system-out>\(escape(result.stdout))</system-out>\n" }
            if !result.stderr.isEmpty { xml += "      <system-err>\(escape(result.stderr))</system-err>\n" }
            xml += "    </testcase>\n"
            for testCase in cases {
                xml += "    <testcase classname=\"\(escape(result.name))\" name=\"\(escape(testCase.name))\" time=\"0\">\n"
                xml += element(for: testCase.verdict, detail: testCase.diagnostics.joined(separator: "\n"))
                xml += "    </testcase>\n"
            }
            xml += "  </testsuite>\n"
        }
        return xml + "</testsuites>\n"
    }

    private static func element(for verdict: Verdict, detail: String) -> String {
        switch verdict {
        case .passed: return ""
        case .skipped(let reason): return "      <skipped message=\"\(escape(reason))\"/>\n"
        case .failed(let reason):
            return "      <failure message=\"\(escape(reason))\">\(escape(detail))</failure>\n"
        }
    }

    /// Text safe inside an XML 1.0 attribute or element: the five special
    /// characters escaped, control characters XML cannot carry replaced.
    static func escape(_ text: String) -> String {
        var out = ""
        out.unicodeScalars.reserveCapacity(text.unicodeScalars.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            case "\t", "\n", "\r": out.unicodeScalars.append(scalar)
            default:
                if scalar.value < 0x20 || scalar.value == 0xFFFE || scalar.value == 0xFFFF {
                    out.unicodeScalars.append("\u{FFFD}")
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out
    }
}

extension Verdict {
    var isFailure: Bool { if case .failed = self { true } else { false } }
    var isSkip: Bool { if case .skipped = self { true } else { false } }
}
