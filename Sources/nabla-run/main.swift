// nabla-run: the tender, lean.
//
// An ordinary run (`nabla-run [options] app.nabla args...`) is parsed by the
// RunOption table and launched from here. This binary is built by the
// Makefile in Embedded Swift from the Nabla sources: no Swift runtime, no
// ArgumentParser, Foundation or Dispatch, so a guest starts, and stays, with
// about what a C tender would hold (docs/performance.md). Anything else (help,
// version, completion scripts, --inspect, --audit, --gdb, and
// every error in the command line) is the full command line's:
// nabla-run-cli, installed beside this binary, is executed in its place with
// the same arguments.

import Glibc
import Nabla

let arguments = RunOption.processArguments() ?? []
if let configuration = RunOption.parse(arguments[...]) {
    do {
        try Tender.run(configuration)
    } catch {
        StandardError.write("nabla-run: \(error)\n")
        exit(error.exitStatus)
    }
}
// --policy prints the addresses the filter pins, which are this binary's own
// (nabla-run-cli's would differ): it is answered here.
if let configuration = RunOption.parsePolicy(arguments[...]) {
    do {
        print(try Tender.policy(for: configuration).report)
        exit(0)
    } catch {
        StandardError.write("nabla-run: \(error)\n")
        exit(error.exitStatus)
    }
}
// ArgumentParser cannot declare solo5-spt's `--block:NAME=PATH` spellings,
// so a malformed one is explained here, with Solo5's status.
if let problem = Solo5Option.problem(in: arguments[...]) {
    StandardError.write("nabla-run: \(problem)\n")
    exit(ExitStatus.solo5TenderError)
}
guard let cli = Tender.companion("nabla-run-cli") else {
    StandardError.write("nabla-run: this command line needs nabla-run-cli, which is not installed beside nabla-run (make install puts both in PREFIX/bin)\n")
    exit(ExitStatus.unavailable)
}
let error = Tender.replaceProcess(with: cli, arguments: ["nabla-run"] + arguments)
StandardError.write("nabla-run: cannot run \(cli), which handles this command line: \(error)\n")
exit(ExitStatus.unavailable)
