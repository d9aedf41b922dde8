// PodSandbox.swift: a Kubernetes pod's sandbox ("pause") container, run by
// nabla-runc itself.
//
// With a RuntimeClass, containerd's CRI plugin (and CRI-O) run every
// container of a pod with the class's runtime, including the sandbox
// container that holds the pod's namespaces, whose image is an ordinary
// Linux program (pause). nabla-runc never runs that program, nor anything
// else from a sandbox's image: the annotation that marks a sandbox can come
// from the image as well as from the CRI (podman copies an image's
// annotations into config.json), so a "sandbox" may be any image, and
// nothing from an image may execute outside the tender's filter.
//
// For a sandbox, create does what it does for any container (namespaces
// created or joined, cgroups, rlimits, user, capabilities, no_new_privs),
// but opens nothing in the rootfs and wires no network (the pod's nabla
// container does, when it joins the namespace). After start, init, which is
// nabla-runc itself, closes every descriptor but stdio and waits for a
// signal: this process is the pause. SIGTERM, SIGINT and SIGKILL end it by
// their default action (it is never a pid namespace's init: nabla-runc
// makes none). The pod's other containers join its namespaces through
// /proc/PID/ns/*, as they join runc's pause.

import CNablaRunc
import Glibc

enum PodSandbox {
    /// The annotations with which CRI implementations mark the sandbox.
    static let annotations = [
        ("io.kubernetes.cri.container-type", "sandbox"),     // containerd
        ("io.kubernetes.cri-o.ContainerType", "sandbox"),    // CRI-O
    ]

    /// The pause: holds the namespaces until a signal ends the process.
    static func pause() -> Never {
        _ = nrc_close_from(3)
        while true { _ = Glibc.pause() }
    }
}
