// TenderError.swift: everything that stops nabla-run before the guest runs,
// and the exit status each maps to (docs/README: "Exit status").

/// Exit statuses of `nabla-run` itself. A guest's own status is whatever its
/// entry returns, modulo 256.
public enum ExitStatus {
    /// The command line is wrong (sysexits EX_USAGE).
    public static let usage: Int32 = 64
    /// The image is not a valid nabla guest, or does not fit (EX_DATAERR).
    public static let badImage: Int32 = 65
    /// The image or a device file cannot be opened or read (EX_NOINPUT).
    public static let noInput: Int32 = 66
    /// The host lacks something the tender needs, such as seccomp (EX_UNAVAILABLE).
    public static let unavailable: Int32 = 69
    /// A bug in nabla-run (EX_SOFTWARE).
    public static let software: Int32 = 70
    /// A host call failed while setting up guest memory (EX_OSERR).
    public static let osError: Int32 = 71
    /// The guest made a system call outside the policy: 128 + SIGSYS.
    public static let forbiddenSyscall: Int32 = 159
}

/// Why the tender could not start the guest. The description is the one
/// line `nabla-run` prints after "nabla-run: ".
public enum TenderError: Error, Equatable, Sendable, CustomStringConvertible {
    case cannotOpen(path: String, Errno)
    case cannotRead(path: String, Errno)
    case notARegularFile(path: String)
    case imageTooLarge(path: String, size: UInt64, limit: UInt64)
    case invalidImage(path: String, ImageError)
    case memoryTooSmall(given: UInt64, needed: UInt64)
    case memoryTooLarge(given: UInt64, limit: UInt64)
    case argumentsTooLong(bytes: Int, limit: Int)
    case guestMemoryInUse(start: UInt64, end: UInt64)
    case hostCall(String, Errno)
    case seccompUnavailable(String, Errno)

    /// The status `nabla-run` exits with.
    public var exitStatus: Int32 {
        switch self {
        case .cannotOpen, .cannotRead, .notARegularFile: ExitStatus.noInput
        case .imageTooLarge, .invalidImage, .memoryTooSmall: ExitStatus.badImage
        case .memoryTooLarge, .argumentsTooLong: ExitStatus.usage
        case .guestMemoryInUse, .hostCall: ExitStatus.osError
        case .seccompUnavailable: ExitStatus.unavailable
        }
    }

    public var description: String {
        switch self {
        case let .cannotOpen(path, error):
            return "cannot open \(path): \(error)"
        case let .cannotRead(path, error):
            return "cannot read \(path): \(error)"
        case let .notARegularFile(path):
            return "\(path) is not a regular file"
        case let .imageTooLarge(path, size, limit):
            return "\(path) is \(size) bytes; the largest image nabla-run loads is \(ByteCount(bytes: limit))"
        case let .invalidImage(path, error):
            return "\(path): \(error)"
        case let .memoryTooSmall(given, needed):
            return "--mem \(ByteCount(bytes: given)) is too small for this image: it needs at least \(ByteCount(bytes: needed)) (image, guard page and \(NABLA_STACK_SIZE / 1024) KiB stack)"
        case let .memoryTooLarge(given, limit):
            return "--mem \(ByteCount(bytes: given)) is larger than the limit of \(ByteCount(bytes: limit))"
        case let .argumentsTooLong(bytes, limit):
            return "the guest arguments take \(bytes) bytes; the command line area holds \(limit)"
        case let .guestMemoryInUse(start, end):
            return "cannot map guest memory at \(hex(start))-\(hex(end)): the range is already in use in this process"
        case let .hostCall(call, error):
            return "\(call) failed: \(error)"
        case let .seccompUnavailable(what, error):
            return "cannot load the seccomp filter (\(what)): \(error); nabla-run needs a kernel with seccomp filters"
        }
    }
}

import CNablaTender
