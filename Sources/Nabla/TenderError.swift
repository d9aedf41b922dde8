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
    /// A host call failed while setting up guest memory (EX_OSERR).
    public static let osError: Int32 = 71
    /// A disk is locked by another process (EX_TEMPFAIL: try again later).
    public static let inUse: Int32 = 75
    /// `--timeout` expired (as coreutils' timeout(1)).
    public static let timedOut: Int32 = 124
    /// The guest made a system call outside the policy: 128 + SIGSYS.
    public static let forbiddenSyscall: Int32 = 159
    /// Any error before a Solo5 image runs, as solo5-spt reports it (a
    /// Solo5 image's own table: docs/security.md, not in ``all``).
    public static let solo5TenderError: Int32 = 1
    /// The guest faulted: 128 + SIGILL, SIGTRAP, SIGBUS, SIGFPE or SIGSEGV.
    public static var faults: [Int32] { Diagnostics.faultSignals.map { 128 + $0 }.sorted() }

    /// Every status nabla-run itself exits with, for the tables in --help,
    /// the README and docs/security.md (the tests check them against this).
    public static var all: [Int32] { [usage, badImage, noInput, unavailable, osError, inUse, timedOut] + faults + [forbiddenSyscall] }
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
    /// A Solo5 image's command line does not fit.
    case argumentsTooLong(bytes: Int, limit: Int)
    /// A nabla image's arguments and environment do not fit the command line area.
    case commandLineTooLong(bytes: Int, limit: Int)
    /// `--env` for a Solo5 image, which has no environment.
    case environmentForSolo5
    case guestMemoryInUse(start: UInt64, end: UInt64)
    case hostCall(String, Errno)
    case seccompUnavailable(String, Errno)
    case tooManyDevices(Int, limit: Int)
    case invalidDeviceName(String)
    case duplicateDeviceName(String)
    /// A disk could not be attached.
    case block(BlockDeviceError)
    /// A NIC could not be attached.
    case net(NetDeviceError)
    case auditFailed(String)
    /// A profile given to `--merge` cannot be merged.
    case badProfile(path: String, String)
    case tooManySegments(limit: Int)
    case kernelTracingUnavailable(String)
    /// A device of a Solo5 image could not be attached to its manifest entry.
    case solo5Device(Solo5DeviceError)
    /// Anything that stopped a Solo5 image before it ran: the same message,
    /// with Solo5's status for a tender error (1).
    indirect case solo5Run(TenderError)

    /// The status `nabla-run` exits with.
    public var exitStatus: Int32 {
        switch self {
        case .cannotOpen, .cannotRead, .notARegularFile: ExitStatus.noInput
        case .imageTooLarge, .invalidImage, .memoryTooSmall, .tooManySegments: ExitStatus.badImage
        case .memoryTooLarge, .argumentsTooLong, .commandLineTooLong, .environmentForSolo5, .tooManyDevices, .invalidDeviceName, .duplicateDeviceName: ExitStatus.usage
        case let .block(error): error.exitStatus
        case let .net(error): error.exitStatus
        case .kernelTracingUnavailable, .seccompUnavailable: ExitStatus.unavailable
        case .auditFailed, .guestMemoryInUse, .hostCall: ExitStatus.osError
        case .solo5Device: ExitStatus.usage
        case .badProfile: ExitStatus.badImage
        case .solo5Run: ExitStatus.solo5TenderError
        }
    }

    public var description: String {
        switch self {
        case let .cannotOpen(path, error): "cannot open \(path): \(error)"
        case let .cannotRead(path, error): "cannot read \(path): \(error)"
        case let .notARegularFile(path): "\(path) is not a regular file"
        case let .imageTooLarge(path, size, limit): "\(path) is \(size) bytes; the largest image nabla-run loads is \(ByteCount(bytes: limit))"
        case let .invalidImage(path, error): "\(path): \(error)"
        case let .memoryTooSmall(given, needed): "--mem \(ByteCount(bytes: given)) is too small for this image: it needs at least \(ByteCount(bytes: needed)) (image, guard page and \(NABLA_STACK_SIZE / 1024) KiB stack)"
        case let .memoryTooLarge(given, limit): "--mem \(ByteCount(bytes: given)) is larger than the limit of \(ByteCount(bytes: limit)) (a number without a suffix is MiB)"
        case let .argumentsTooLong(bytes, limit): "the guest arguments take \(bytes) bytes; the command line area holds \(limit)"
        case let .commandLineTooLong(bytes, limit): "the guest arguments and environment take \(bytes) bytes; the command line area holds \(limit)"
        case .environmentForSolo5: "--env: a Solo5 image has no environment (Solo5's ABI passes only a command line)"
        case let .guestMemoryInUse(start, end): "cannot map guest memory at \(hex(start))-\(hex(end)): the range is already in use in this process"
        case let .hostCall(call, error): "\(call) failed: \(error)"
        case let .tooManyDevices(count, limit): "\(count) devices given; a guest can have at most \(limit)"
        case let .invalidDeviceName(name): "'\(name)' is not a device name: use 1 to 31 of A-Z a-z 0-9 . _ -"
        case let .duplicateDeviceName(name): "two devices are named '\(name)': give each --disk its own NAME= prefix"
        case let .block(error): error.description
        case let .net(error): error.description
        case let .tooManySegments(limit): "the image's segments make more than \(limit) separate memory ranges; link it with fewer PT_LOAD segments (guests/nabla.ld makes three)"
        case let .auditFailed(message): "--audit: \(message)"
        case let .badProfile(path, reason): "--merge \(path): \(reason)"
        case let .kernelTracingUnavailable(message): "--audit-kernel: \(message)"
        case let .solo5Device(error): error.description
        case let .solo5Run(error): error.description
        case let .seccompUnavailable(what, error): "cannot load the seccomp filter (\(what)): \(error); nabla-run needs a kernel with seccomp filters"
        }
    }
}

import CNablaTender
import Glibc
