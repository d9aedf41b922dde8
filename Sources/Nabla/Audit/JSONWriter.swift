// JSONWriter.swift: a minimal JSON emitter for the audit report, so the
// tender does not link Foundation (which would slow every start-up).

/// Builds JSON text; callers nest `object`, `array` and `field` calls.
import JSONText

final class JSONWriter {
    private(set) var text = ""
    private var needsComma = [false]

    private func separate() {
        if needsComma[needsComma.count - 1] { text += "," }
        needsComma[needsComma.count - 1] = true
    }

    func object(_ body: () -> Void) {
        separate()
        text += "{"
        needsComma.append(false)
        body()
        needsComma.removeLast()
        text += "}"
    }

    func array<T>(_ items: [T], _ element: (T) -> Void) {
        separate()
        text += "["
        needsComma.append(false)
        for item in items { element(item) }
        needsComma.removeLast()
        text += "]"
    }

    /// A member of the enclosing object; `value` writes exactly one value.
    func field(_ name: String, _ value: () -> Void) {
        separate()
        text += Self.quoted(name) + ":"
        needsComma.append(false)
        value()
        needsComma.removeLast()
    }

    func string(_ value: String) {
        separate()
        text += Self.quoted(value)
    }

    func bool(_ value: Bool) {
        separate()
        text += value ? "true" : "false"
    }

    func number<T: BinaryInteger>(_ value: T) {
        separate()
        text += String(value)
    }

    static func quoted(_ value: String) -> String { jsonQuoted(value) }
}
