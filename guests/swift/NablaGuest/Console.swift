// Console.swift: the console (nabla-run's standard output). `print` works
// as it is (it goes through the library's line-buffered putchar); these
// are for writing without a newline and for flushing.

import NablaLibOS

public enum Console {
    /// Writes `text` as it is, after anything `print` has buffered.
    public static func write(_ text: String) {
        flush()
        var text = text
        text.withUTF8 { bytes in
            guard let base = bytes.baseAddress else { return }
            base.withMemoryRebound(to: CChar.self, capacity: bytes.count) {
                _ = nabla_console_write($0, bytes.count)
            }
        }
    }

    /// Writes out what `print` has buffered (a partial line).
    public static func flush() {
        _ = nabla_flush()
    }
}
