// Locator.swift: finding the nabla-run to start.

#if canImport(Glibc)
import Glibc
#endif

enum Locator {
    /// `given` (--nabla-run) if it is executable; else $NABLA_RUN; else the
    /// nabla-run next to this executable (an installed prefix's bin/);
    /// else the first on PATH.
    static func nablaRun(given: String?) -> String? {
        if let given { return isExecutable(given) ? given : nil }
        if let fromEnvironment = environment("NABLA_RUN"), isExecutable(fromEnvironment) { return fromEnvironment }
        if let own = ownDirectory(), isExecutable(own + "/nabla-run") { return own + "/nabla-run" }
        for directory in (environment("PATH") ?? "/usr/local/bin:/usr/bin:/bin").split(separator: ":") {
            let candidate = String(directory) + "/nabla-run"
            if isExecutable(candidate) { return candidate }
        }
        return nil
    }

    private static func isExecutable(_ path: String) -> Bool {
        var info = stat()
        return access(path, X_OK) == 0 && stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG
    }

    /// The directory of /proc/self/exe.
    private static func ownDirectory() -> String? {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let length = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard length > 0 else { return nil }
        let path = String(decoding: buffer[0..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        guard let slash = path.lastIndex(of: "/") else { return nil }
        return String(path[..<slash])
    }
}
