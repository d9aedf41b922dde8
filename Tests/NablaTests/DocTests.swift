// DocTests.swift: the docs' shell blocks are run, so a page that drifts from
// what the tools do fails the suite (docs/README's "Keeping the docs true").
//
// Every fenced block of shell in README.md, docs/*.md, guests/*.md and
// fuzz/README.md (info string sh, console, shell or bash, or a bare block
// whose first line is a `$ ` command) carries a marker on the line before
// its fence:
//
//   <!-- doc-test: run -->              run in a scratch folder
//   <!-- doc-test: run-root -->         run as root (skipped, saying so, otherwise)
//   <!-- doc-test: run-sdk -->          run with an SDK installed (make install-files)
//                                       into the scratch folder, its bin/ first on PATH
//   <!-- doc-test: not run: REASON -->  not run, and why
//
// A block with `$ ` lines is a transcript: each command runs in order in one
// bash, its output (stdout and stderr together) is compared with the lines
// the page shows under it, after masking what changes from run to run
// (addresses, MACs, times, large counters); a line `...` stands for any
// number of lines. A command that ends in `&` runs in the background: the
// lines under it must appear in its output within 10 seconds. A block with
// no `$ ` lines is a script that must exit 0.
//
// The scratch folder holds links to the checkout's tools/, docs/ and
// guests/, and a .build/ whose release/ and guests/ are the binaries under
// test (NABLA_RUN, NABLA_GUESTS), so the pages' relative paths work; their
// release/ is also first on PATH.

import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// One fenced block of a page.
struct DocBlock: CustomStringConvertible {
    enum Marker: Equatable {
        case run
        case runRoot
        case runSDK
        case notRun(reason: String)
    }

    var file: String
    /// The line of the opening fence, from 1.
    var line: Int
    var info: String
    var marker: Marker?
    var lines: [String]

    var description: String { "\(file):\(line)" }

    /// True if the block is shell the marker rule applies to.
    var isShell: Bool {
        ["sh", "console", "shell", "bash"].contains(info) || (info.isEmpty && lines.first?.hasPrefix("$ ") == true)
    }

    /// The pages whose blocks are checked, relative to the checkout.
    static let pages: [String] = {
        let root = Paths.packageRoot.path
        let docs = ((try? FileManager.default.contentsOfDirectory(atPath: root + "/docs")) ?? [])
            .filter { $0.hasSuffix(".md") }.sorted().map { "docs/" + $0 }
        let guests = ((try? FileManager.default.contentsOfDirectory(atPath: root + "/guests")) ?? [])
            .filter { $0.hasSuffix(".md") }.sorted().map { "guests/" + $0 }
        return ["README.md"] + docs + guests + ["fuzz/README.md"]
    }()

    /// Every fenced block of `file` (relative to the checkout).
    static func blocks(in file: String) throws -> [DocBlock] {
        let text = try String(contentsOfFile: Paths.packageRoot.path + "/" + file, encoding: .utf8)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        var blocks: [DocBlock] = []
        var index = 0
        while index < lines.count {
            let line = lines[index]
            guard line.hasPrefix("```") else { index += 1; continue }
            let info = String(line.dropFirst(3)).trimmingCharacters(in: .whitespaces)
            var body: [String] = []
            var end = index + 1
            while end < lines.count, !lines[end].hasPrefix("```") { body.append(lines[end]); end += 1 }
            blocks.append(DocBlock(file: file, line: index + 1, info: info, marker: marker(before: index, in: lines), lines: body))
            index = end + 1
        }
        return blocks
    }

    /// The marker on the line before the fence at `index` (a blank line may
    /// stand between them).
    private static func marker(before index: Int, in lines: [String]) -> Marker? {
        var at = index - 1
        if at >= 0, lines[at].trimmingCharacters(in: .whitespaces).isEmpty { at -= 1 }
        guard at >= 0 else { return nil }
        let line = lines[at].trimmingCharacters(in: .whitespaces)
        guard line.hasPrefix("<!-- doc-test:"), line.hasSuffix("-->") else { return nil }
        let body = line.dropFirst("<!-- doc-test:".count).dropLast(3).trimmingCharacters(in: .whitespaces)
        if body == "run" { return .run }
        if body == "run-root" { return .runRoot }
        if body == "run-sdk" { return .runSDK }
        if body.hasPrefix("not run:") {
            let reason = body.dropFirst("not run:".count).trimmingCharacters(in: .whitespaces)
            return reason.isEmpty ? nil : .notRun(reason: reason)
        }
        return nil
    }

    /// Every shell block of every page.
    static func allShellBlocks() throws -> [DocBlock] {
        try pages.flatMap { try blocks(in: $0) }.filter(\.isShell)
    }
}

/// A transcript's command and the output the page shows for it.
struct TranscriptStep {
    var command: String
    var expected: [String]
    var background: Bool { command.hasSuffix("&") && !command.hasSuffix("&&") }

    /// The steps of a block with `$ ` lines; a command continues on the
    /// next line after a trailing backslash.
    static func parse(_ lines: [String]) -> [TranscriptStep] {
        var steps: [TranscriptStep] = []
        var continuing = false
        for line in lines {
            if continuing, var last = steps.popLast() {
                last.command += "\n" + line
                continuing = line.hasSuffix("\\")
                steps.append(last)
            } else if line.hasPrefix("$ ") {
                steps.append(TranscriptStep(command: String(line.dropFirst(2)), expected: []))
                continuing = line.hasSuffix("\\")
            } else if var last = steps.popLast() {
                last.expected.append(line)
                steps.append(last)
            }
        }
        return steps
    }
}

/// What changes from run to run, masked in both the page and the output.
func docNormalised(_ line: String) -> String {
    line.replacing(/0x[0-9a-fA-F]+/, with: "0xN")
        .replacing(/\b([0-9a-f]{2}:){5}[0-9a-f]{2}\b/, with: "MAC")
        .replacing(/\b\d+(\.\d+)? ?(ms|µs|us|ns|s)\b/, with: "TIME")
        .replacing(/\b\d{7,}\b/, with: "N")
        .trimmingCharacters(in: .whitespaces)
}

/// True if `actual` matches `expected`, where an expected line `...`
/// matches any number of lines.
func docLinesMatch(_ expected: [String], _ actual: [String]) -> Bool {
    let expected = expected.map(docNormalised), actual = actual.map(docNormalised)
    func match(_ e: Int, _ a: Int) -> Bool {
        if e == expected.count { return a == actual.count }
        if expected[e] == "..." { return (a...actual.count).contains { match(e + 1, $0) } }
        return a < actual.count && expected[e] == actual[a] && match(e + 1, a + 1)
    }
    return match(0, 0)
}

/// Blocks run one at a time: several pages use the same names (a network
/// namespace, a TAP, an image tag), and a root block removes the
/// namespaces it made (docNamespaces) when it ends, also when it fails.
private let docLock = NSLock()

/// A scratch folder laid out like the checkout for a block to run in.
private func withDocScratch<T>(_ body: (String) throws -> T) throws -> T {
    try withTemporaryDirectory { dir in
        let fm = FileManager.default
        let root = Paths.packageRoot.path
        for name in ["tools", "docs", "guests", "sdk", "bench"] {
            try fm.createSymbolicLink(atPath: dir + "/" + name, withDestinationPath: root + "/" + name)
        }
        try fm.createDirectory(atPath: dir + "/.build", withIntermediateDirectories: true)
        let release = (Paths.tender as NSString).deletingLastPathComponent
        try fm.createSymbolicLink(atPath: dir + "/.build/release", withDestinationPath: release)
        try fm.createSymbolicLink(atPath: dir + "/.build/guests", withDestinationPath: Paths.guests)
        return try body(dir)
    }
}

/// The network namespaces a block makes (`ip netns add NAME`, `--netns
/// NAME`): a root block runs only if none of them exists yet.
func docNamespaces(_ lines: [String]) -> [String] {
    let text = lines.joined(separator: "\n")
    let names = text.matches(of: /(?:ip netns add|--netns) +([A-Za-z0-9_.-]+)/).map { String($0.1) }
    return Array(Set(names)).sorted()
}

/// The bash script that runs `steps` in `dir`, marking where each step's
/// output starts; background steps write to bg.N files instead.
private func transcriptScript(_ steps: [TranscriptStep], in dir: String, path: String) -> String {
    var script = """
        exec 2>&1
        cd '\(dir)' || exit 97
        export PATH='\(path)':"$PATH"
        step() { local s=$?; printf '\\n@@doc-step %s@@\\n' "$1"; return $s; }
        wait_lines() { for _ in $(seq 100); do [ "$(wc -l < "$1" 2>/dev/null || echo 0)" -ge "$2" ] && return 0; sleep 0.1; done; }
        trap 'kill $(jobs -p) 2>/dev/null; wait 2>/dev/null' EXIT

        """
    for (index, step) in steps.enumerated() {
        script += "step \(index)\n"
        if step.background {
            let command = String(step.command.dropLast()).trimmingCharacters(in: .whitespaces)
            script += "\(command) > '\(dir)/bg.\(index)' 2>&1 &\n"
            script += "wait_lines '\(dir)/bg.\(index)' \(step.expected.filter { $0 != "..." }.count)\n"
        } else {
            script += step.command + "\n"
        }
    }
    script += "step end\n"
    return script
}

/// Runs `block` and returns what differs from the page, or nil.
private func runDocBlock(_ block: DocBlock) throws -> String? {
    try withDocScratch { dir in
        var path = "\(dir)/.build/release"
        if block.marker == .runSDK { path = try InstalledSDK.install(into: dir + "/prefix").bin }
        let steps = TranscriptStep.parse(block.lines)
        let script = steps.isEmpty
            ? "set -e\ncd '\(dir)'\nexport PATH='\(path)':\"$PATH\"\n" + block.lines.joined(separator: "\n") + "\n"
            : transcriptScript(steps, in: dir, path: path)
        let namespaces = block.marker == .runRoot ? docNamespaces(block.lines) : []
        let result: Result<Outcome, HarnessError> = try docLock.withLock {
            for name in namespaces where FileManager.default.fileExists(atPath: "/run/netns/" + name) {
                return .failure(HarnessError("network namespace \(name) exists already: remove it (ip netns del \(name)) to run this block"))
            }
            defer { for name in namespaces { _ = try? run("/sbin/ip", ["netns", "del", name]) } }
            if block.lines.contains(where: { $0.contains("podman") }) {
                return .success(try PodmanImages.lock.withLock { try run("/bin/bash", ["-c", script], timeout: 120) })
            }
            return .success(try run("/bin/bash", ["-c", script], timeout: 120))
        }
        let outcome: Outcome
        switch result {
        case .success(let value): outcome = value
        case .failure(let error): return error.description
        }
        if steps.isEmpty { return outcome.status == 0 ? nil : "the script failed: \(outcome)" }
        var outputs: [Int: [String]] = [:]
        var current: Int?
        for line in outcome.stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            if line.hasPrefix("@@doc-step "), line.hasSuffix("@@") {
                current = Int(line.dropFirst("@@doc-step ".count).dropLast(2))
                if let current { outputs[current] = [] }
                continue
            }
            if let step = current { outputs[step, default: []].append(line) }
        }
        var problems: [String] = []
        for (index, step) in steps.enumerated() {
            var actual: [String]
            if step.background {
                let text = (try? String(contentsOfFile: dir + "/bg.\(index)", encoding: .utf8)) ?? ""
                actual = text.split(separator: "\n").map(String.init)
                // The page shows what had appeared when the next command ran.
                if !docLinesMatch(step.expected + ["..."], actual) {
                    problems.append("$ \(step.command)\n  page: \(step.expected)\n  run:  \(actual)")
                }
                continue
            }
            actual = outputs[index] ?? []
            // The separator's own line break leaves one empty line before the next step.
            while actual.last == "" { actual.removeLast() }
            if actual.first == "" { actual.removeFirst() }
            if !docLinesMatch(step.expected, actual) {
                problems.append("$ \(step.command)\n  page: \(step.expected)\n  run:  \(actual)")
            }
        }
        return problems.isEmpty ? nil : problems.joined(separator: "\n")
    }
}

@Suite("The docs' shell blocks run")
struct DocTests {
    @Test("every shell block in README.md, docs/, guests/ and fuzz/ is run by this suite or says why not")
    func everyBlockMarked() throws {
        let blocks = try DocBlock.allShellBlocks()
        #expect(blocks.count > 20, "found only \(blocks.count) shell blocks: is the parser broken?")
        let unmarked = blocks.filter { $0.marker == nil }
        #expect(unmarked.isEmpty, "shell blocks with no '<!-- doc-test: run -->', 'run-root' or 'not run: REASON' marker: \(unmarked)")
    }

    @Test("a page's runnable blocks give the output the page shows", arguments: DocBlock.pages)
    func pageRuns(_ page: String) throws {
        let blocks = try DocBlock.blocks(in: page).filter { $0.isShell }
        for block in blocks {
            switch block.marker {
            case .run, .runSDK:
                if let problem = try runDocBlock(block) { Issue.record("\(block): \(problem)") }
            case .runRoot:
                guard geteuid() == 0 else {
                    print("doc-test: \(block) skipped: needs root")
                    continue
                }
                if let problem = try runDocBlock(block) { Issue.record("\(block): \(problem)") }
            case .notRun, nil:
                continue
            }
        }
    }

    @Test("the transcript matcher: masks, '...', and a changed line caught")
    func matcher() {
        #expect(docLinesMatch(["a 0x1234", "...", "z"], ["a 0xffff", "b", "c", "z"]))
        #expect(docLinesMatch(["time 407ms"], ["time 12ms"]))
        #expect(!docLinesMatch(["8 rules"], ["18 rules"]))
        #expect(!docLinesMatch(["a"], ["a", "b"]))
        #expect(docLinesMatch(["mac 92:0d:2d:70:b9:0b"], ["mac 02:00:00:00:00:01"]))
        let steps = TranscriptStep.parse(["$ one \\", "  two", "out", "$ bg &", "ready"])
        #expect(steps.count == 2 && steps[0].command == "one \\\n  two" && steps[0].expected == ["out"] && steps[1].background)
    }
}
