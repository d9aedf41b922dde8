// nabla-fuzz: libFuzzer on the ELF validator, GuestLayout and
// ImageInspection (fuzz/README.md). Built only by fuzz/run.sh, with
// -sanitize=fuzzer,address.
//
//   nabla-fuzz --write-seeds DIR [IMAGE...]   write the seed corpus (Seeds.swift)
//   nabla-fuzz [libFuzzer flags] [CORPUS...]  fuzz, or run the inputs given
//
// The program has its own main, which hands everything but --write-seeds to
// libFuzzer's LLVMFuzzerRunDriver: so the target links the same way in any
// build configuration, whatever SwiftPM does with an executable's main.

import CFuzzer
import Glibc

let arguments = CommandLine.arguments
if arguments.count >= 2, arguments[1] == "--write-seeds" {
    guard arguments.count >= 3 else {
        _ = Seeds.fail("usage: nabla-fuzz --write-seeds DIR [IMAGE...]")
        exit(64)
    }
    exit(Seeds.write(to: arguments[2], guests: Array(arguments.dropFirst(3))))
}

var argc = CommandLine.argc
var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
exit(LLVMFuzzerRunDriver(&argc, &argv) { data, size in fuzzOne(data, size) })
