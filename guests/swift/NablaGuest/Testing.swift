// Testing.swift: the Swift side of the guest test API, printing the same
// TAP as nabla_test.h so that nabla-test reads both alike:
//
//     test("sums") { expect(1 + 1 == 2) }
//     test("strings") { expect("nabla".uppercased() == "NABLA", "uppercased") }
//     return testsFinished()
//
// Each `test` runs its body at once and prints `ok N - name` or
// `not ok N - name` after `# file:line: message` for each failed
// expectation; `testsFinished()` prints the plan and returns the exit
// status: 0, 1 when a test failed, 77 when every test was skipped.

/// The state of the tests run so far (one thread: no locking).
private struct TestState {
    var number = 0
    var failed = 0
    var skipped = 0
    var currentFailed = false
}

nonisolated(unsafe) private var state = TestState()

/// Thrown by `skip` to end a test as skipped.
public struct TestSkip: Error {
    public let reason: String
    public init(_ reason: String) { self.reason = reason }
}

/// Runs `body` as the test `name` and prints its TAP line. A `TestSkip`
/// thrown from the body skips the test.
public func test(_ name: String, _ body: () throws(TestSkip) -> Void) {
    if state.number == 0 { print("TAP version 13") }
    state.number += 1
    state.currentFailed = false
    do throws(TestSkip) {
        try body()
    } catch {
        state.skipped += 1
        print("ok \(state.number) - \(name) # SKIP \(error.reason)")
        return
    }
    if state.currentFailed { state.failed += 1 }
    print("\(state.currentFailed ? "not ok" : "ok") \(state.number) - \(name)")
}

/// Notes a failure of the running test if `condition` is false, with the
/// file and line of the call.
public func expect(_ condition: Bool, _ message: String = "expectation failed",
                   file: StaticString = #file, line: UInt = #line) {
    guard !condition else { return }
    state.currentFailed = true
    print("# \(file):\(line): \(message)")
}

/// Notes a failure if `actual` is not `expected`, printing both.
public func expectEqual<T: Equatable & CustomStringConvertible>(_ actual: T, _ expected: T,
                                                                file: StaticString = #file, line: UInt = #line) {
    expect(actual == expected, "expected \(expected), got \(actual)", file: file, line: line)
}

/// Ends the running test as skipped: `try skip("no disk")`.
public func skip(_ reason: String) throws(TestSkip) -> Never {
    throw TestSkip(reason)
}

/// Prints the plan and returns the guest's exit status: 0 if every test
/// passed, 1 if one failed, 77 if every test was skipped.
public func testsFinished() -> Int32 {
    if state.number == 0 { print("TAP version 13") }
    print("1..\(state.number)")
    if state.failed > 0 { return 1 }
    return state.number > 0 && state.skipped == state.number ? 77 : 0
}
