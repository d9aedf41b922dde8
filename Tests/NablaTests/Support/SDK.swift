// SDK.swift: where the SDK's tools are for the tests: nabla-test, and the
// repository root for `make install`.

import Foundation

extension Paths {
    /// nabla-test: $NABLA_TEST_RUNNER (`make test` sets it), else the debug build.
    static var testRunner: String {
        if let path = ProcessInfo.processInfo.environment["NABLA_TEST_RUNNER"], !path.isEmpty {
            return path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
        }
        return packageRoot.appendingPathComponent(".build/debug/nabla-test").path
    }
}

/// Runs nabla-test with `arguments`, with the nabla-run under test.
func nablaTest(_ arguments: [String], timeout: Double = 60) throws -> Outcome {
    try run(Paths.testRunner, ["--nabla-run", Paths.tender] + arguments, timeout: timeout)
}
