// RuncError.swift: every way a nabla-runc command fails, as one line and
// an exit status (the table is in docs/oci.md).

import Glibc

/// An exit status of nabla-runc. Engines only test for non-zero; the
/// distinct values are for people and scripts.
enum ExitStatus: Int32 {
    case success = 0
    /// The container is not in a state that allows the command: unknown id,
    /// already exists, start of a started container, delete of a running
    /// one without --force, kill of a stopped one.
    case wrongState = 1
    /// A bad command line.
    case usage = 64
    /// config.json is not valid JSON or not a spec nabla-runc can run.
    case badBundle = 65
    /// A file the bundle names (config.json, the rootfs, the image, a disk)
    /// cannot be opened.
    case noInput = 66
    /// A command or feature nabla-runc refuses (exec, pause, user
    /// namespaces, hooks, the systemd cgroup driver, ...).
    case unsupported = 69
    /// A system call failed while setting the container up or tearing it down.
    case system = 71
    /// Refused for safety: the bundle asks for what the engine did not
    /// grant (a block device as a disk without the device's grant), or the
    /// state directory is one others could have planted files in.
    case notPermitted = 77
}

/// A failure of a nabla-runc command: one line for the user and a status.
struct RuncError: Error, CustomStringConvertible {
    let status: ExitStatus
    let description: String

    init(_ status: ExitStatus, _ description: String) {
        self.status = status
        self.description = description
    }

    /// A failed system call: names the call, what it was for, and errno.
    static func system(_ what: String, errno code: Int32 = errno) -> RuncError {
        RuncError(.system, "\(what): \(errnoText(code))")
    }

    /// errno in the words of nabla-runc's messages. Engines read a
    /// runtime's error text, not only its status: podman reports any
    /// message containing "no such file or directory" as "command not
    /// found" (status 127) and "permission denied" or "operation not
    /// permitted" as status 126, and containerd's runc shim takes "does not
    /// exist" for a missing container. runc's messages have those words
    /// only when they mean it (a missing executable); so ENOENT, EACCES and
    /// EPERM are said in other words, with the errno's name, and the rest as
    /// strerror says them.
    static func errnoText(_ code: Int32) -> String {
        switch code {
        case ENOENT: return "missing (ENOENT)"
        case EACCES: return "access denied (EACCES)"
        case EPERM: return "not allowed (EPERM)"
        default: return String(cString: strerror(code))
        }
    }

    static func usage(_ text: String) -> RuncError { RuncError(.usage, text) }
    static func bundle(_ text: String) -> RuncError { RuncError(.badBundle, text) }
    static func unsupported(_ text: String) -> RuncError { RuncError(.unsupported, text) }
    static func state(_ text: String) -> RuncError { RuncError(.wrongState, text) }
    static func notPermitted(_ text: String) -> RuncError { RuncError(.notPermitted, text) }
}
