// Delegation.swift: a Kubernetes pod's sandbox ("pause") container goes to
// runc.
//
// With a RuntimeClass, containerd's CRI plugin (and CRI-O) run every
// container of the pod with the class's runtime, including the pause
// container that holds the pod's namespaces. That one is an ordinary Linux
// program, not a unikernel, so nabla-runc hands it to runc unchanged (as
// urunc does): the same command line, with runc's state in ROOT/runc.
// Later commands for that id find runc's folder there and go to runc too.
// Only containers the CRI marks as the sandbox are handed over; any other
// container without a .nabla image is refused.

import Glibc

struct Delegation {
    /// The annotations with which CRI implementations mark the sandbox.
    static let sandboxAnnotations = [
        ("io.kubernetes.cri.container-type", "sandbox"),     // containerd
        ("io.kubernetes.cri-o.ContainerType", "sandbox"),    // CRI-O
    ]

    let options: GlobalOptions
    var runcRoot: String { options.root + "/runc" }

    /// Whether the bundle's config.json marks a pod's sandbox container.
    /// A config that cannot be read is not one (create then reports why).
    static func isPodSandbox(bundle: String) throws(RuncError) -> Bool {
        guard let bytes = try? FileSystem.read(bundle + "/config.json"), let document = try? JSON.parse(bytes),
              let annotations = document["annotations"] else { return false }
        return sandboxAnnotations.contains { annotations[$0.0]?.stringValue == $0.1 }
    }

    /// Whether runc holds state for container `id` under ROOT/runc.
    func owns(_ id: String) -> Bool { FileSystem.exists(runcRoot + "/" + id) }

    /// Replaces this process with runc, given the same command.
    func handOver() throws(RuncError) -> Never {
        let runc = try findTool("runc", package: "runc", purpose: "pod sandbox containers")
        var arguments = ["runc", "--root", runcRoot, "--log-format", options.logFormat.rawValue]
        if let log = options.logPath { arguments += ["--log", log] }
        if options.systemdCgroup { arguments.append("--systemd-cgroup") }
        arguments += options.rawCommand
        let argv = arguments.map { strdup($0) } + [nil]
        execv(runc, argv)
        throw .system("cannot run \(runc) for a pod sandbox container")
    }
}
