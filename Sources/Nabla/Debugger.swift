// Debugger.swift: `--gdb`: run the guest under gdb with its symbols loaded.
//
// A guest image is an ET_EXEC linked at its load addresses, so gdb can take
// its symbols as they are (`add-symbol-file app.nabla`, no offsets). Guest
// memory is mapped only when the tender loads the image, so gdb first stops
// at nabla_enter_guest, where every guest address is mapped and software
// breakpoints can be set. docs/debugging.md shows a session.

import Glibc

public enum Debugger {
    /// The gdb command line for `configuration`.
    public static func commandLine(for configuration: TenderConfiguration, tender: String) -> [String] {
        [
            "gdb", "-q",
            "-ex", "set confirm off",
            "-ex", "set pagination off",
            "-ex", "add-symbol-file \(configuration.imagePath)",
            "-ex", "break nabla_enter_guest",
            "-ex", "run",
            "-ex", "echo \\nnabla: the guest is loaded; set breakpoints on guest functions, then: continue\\n",
            "--args", tender,
        ] + configuration.commandLine
    }

    /// Prints the gdb command, then replaces this process with it.
    public static func run(_ configuration: TenderConfiguration) throws(TenderError) -> Never {
        let tender = Tender.runner
        let command = commandLine(for: configuration, tender: tender)
        StandardError.write("nabla-run: " + command.map(shellQuoted).joined(separator: " ") + "\n")
        throw .hostCall("exec of gdb (install it: apt-get install gdb)", Sys.execute(command))
    }

    /// This executable's path, from /proc/self/exe.
    public static func executablePath() -> String {
        var buffer = [CChar](repeating: 0, count: 4096)
        let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard n > 0 else { return "nabla-run" }
        return String(decoding: buffer[..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    static func shellQuoted(_ word: String) -> String {
        word.allSatisfy({ $0.isLetter || $0.isNumber || "-_./=:".contains($0) }) ? word : "'" + word.replacingAll("'", with: "'\\''") + "'"
    }
}

extension String {
    func replacingAll(_ target: Character, with replacement: String) -> String {
        var out = ""
        for character in self { if character == target { out += replacement } else { out.append(character) } }
        return out
    }
}
