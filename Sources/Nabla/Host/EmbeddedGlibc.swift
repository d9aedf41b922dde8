// EmbeddedGlibc.swift: what Swift's Glibc overlay adds to the C headers,
// for nabla-run's Embedded Swift build on musl (Makefile, "tender"), which
// has no overlay. tender/embedded/ gives musl's headers the module name
// Glibc; this file adds the few overlay names the Nabla sources use, so
// that they compile in both modes. Not compiled into the full build. (The
// few calls whose C types differ between glibc and musl are under
// `#if NABLA_MUSL` in Syscalls.swift.)

#if hasFeature(Embedded)
import Glibc

/// The calling thread's errno.
var errno: Int32 {
    get { __errno_location().pointee }
    set { __errno_location().pointee = newValue }
}

/// A signal handler's type, glibc's name for it (musl's headers have none).
typealias __sighandler_t = @convention(c) (Int32) -> Void

/// mmap's failure value, `(void *)-1`.
let MAP_FAILED = UnsafeMutableRawPointer(bitPattern: -1)

/// The "ignore this signal" disposition.
let SIG_IGN = unsafeBitCast(1, to: __sighandler_t.self)

/// The "default action" disposition.
let SIG_DFL = unsafeBitCast(0, to: __sighandler_t.self)

/// open(2) with a creation mode (the C function is variadic).
func open(_ path: UnsafePointer<CChar>, _ flags: Int32, _ mode: mode_t) -> Int32 {
    nabla_glibc_open(path, flags, mode)
}

/// fcntl(2) with an integer argument (the C function is variadic).
func fcntl(_ fd: Int32, _ command: Int32, _ value: Int32) -> Int32 {
    nabla_glibc_fcntl(fd, command, value)
}

/// The process's arguments, as the standard library's CommandLine has them.
enum CommandLine {
    static var argc: Int32 { nabla_glibc_argc }
    static var unsafeArgv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?> { nabla_glibc_argv }
}
#endif
