// hello-swift: the hello guest in Embedded Swift.
//
// The library OS starts the guest as usual and calls main(argc, argv),
// which @_cdecl exports under its C name. The text goes out through the
// same console path as C guests (nabla_console_write, the puts hypercall).

import NablaLibOS

/// Writes a compile-time string to the console.
func write(_ text: StaticString) {
    text.withUTF8Buffer { bytes in
        bytes.withMemoryRebound(to: CChar.self) { chars in
            _ = nabla_console_write(chars.baseAddress, chars.count)
        }
    }
}

@_cdecl("main")
public func main(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    write("Hello from a nabla guest, in Embedded Swift!\n")
    return 0
}
