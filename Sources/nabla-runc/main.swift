// nabla-runc: an OCI runtime that runs nabla unikernels as containers, for
// podman (through conmon), containerd (through its runc shim) and so
// Kubernetes. See docs/oci.md.

import Glibc

/// The runtime's version, and the runtime-spec version it implements.
let runtimeVersion = "0.1.0"
let specVersion = "1.0.2"

// A write to a closed pipe (init gone, engine gone) is an error to report,
// not a reason to die; the container process gets default dispositions back.
signal(SIGPIPE, SIG_IGN)

var commandLine = RuncCommandLine(Array(Swift.CommandLine.arguments.dropFirst()))
let status: ExitStatus
do throws(RuncError) {
    let command = try commandLine.parse()
    try Runtime(options: commandLine.options).run(command)
    status = .success
} catch {
    Log(commandLine.options).error(error.description)
    status = error.status
}
exit(status.rawValue)

/// Error reporting: one line on stderr, and on --log as runc writes it
/// (logrus text, or one JSON object a line that containerd and conmon read).
struct Log {
    let options: GlobalOptions

    init(_ options: GlobalOptions) { self.options = options }

    func error(_ message: String) {
        let line = "nabla-runc: " + message + "\n"
        _ = line.withCString { write(2, $0, strlen($0)) }
        guard let path = options.logPath else { return }
        let entry: String
        switch options.logFormat {
        case .json:
            entry = JSON.object([("level", .string("error")), ("msg", .string(message)), ("time", .string(rfc3339Now()))]).serialized
        case .text:
            entry = "time=\"\(rfc3339Now())\" level=error msg=" + JSON.string(message).serialized
        }
        let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { return }
        _ = (entry + "\n").withCString { write(fd, $0, strlen($0)) }
        close(fd)
    }
}
