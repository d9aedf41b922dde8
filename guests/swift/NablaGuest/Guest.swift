// Guest.swift: the guest's arguments and ways out, over the library OS.
//
// NablaGuest is the Embedded Swift face of the library OS (docs/guests.md):
// `import NablaGuest` and use `print`, `CommandLine.arguments`, `Clock`,
// `sleep`, `BlockDevice` and the test API. The C API stays reachable with
// `import NablaLibOS`.

import NablaLibOS

/// The guest's command line, as the standard library has it on other
/// platforms (Embedded Swift has no CommandLine of its own).
public enum CommandLine {
    /// The image (as named on the nabla-run command line), then the guest
    /// arguments that follow it, as `argv` in C.
    public static var arguments: [String] {
        guard let info = nabla_boot_info(), let argv = info.pointee.argv else { return [] }
        var arguments: [String] = []
        arguments.reserveCapacity(Int(info.pointee.argc))
        for index in 0..<Int(info.pointee.argc) {
            guard let argument = argv[index] else { break }
            arguments.append(String(cString: argument))
        }
        return arguments
    }
}

/// Ending the guest.
public enum Guest {
    /// Ends the guest with `status` (nabla-run's exit status, modulo 256),
    /// from any depth. Output written with `print` is flushed first.
    public static func exit(_ status: Int32) -> Never {
        NablaLibOS.exit(status)
    }

    /// Prints "abort" and ends the guest with status 134.
    public static func abort() -> Never {
        NablaLibOS.abort()
    }
}
