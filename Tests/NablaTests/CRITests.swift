// CRITests.swift: nabla-runc under Kubernetes' Container Runtime Interface,
// driven as the kubelet drives it: Debian's containerd with its CRI plugin
// and a `nabla` runtime handler (the runc v2 shim with BinaryName
// nabla-runc, as docs/oci.md configures it), Debian's CNI bridge plugin,
// a pause image built here (Support/CRI.swift has the node). Pods run,
// their containers' logs land in the CRI's log files, their guests answer
// on the pod network, and nothing is left once they are removed.
//
// These need root, containerd, podman, Debian's CNI plugins and the Python
// gRPC modules (tools/install-deps); without them they are skipped and say
// why, as they are (with a line on stdout) when containerd's CRI plugin
// cannot start here.

import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite("OCI runtime under containerd's CRI", .serialized,
       .enabled(if: CRINode.unavailable == nil, Comment(rawValue: CRINode.unavailable ?? "")))
struct CRITests {
    @Test("a pod through the CRI: hello's output in the CRI log file, exit codes and reasons, the pod's memory limit, a UDP guest on the pod network, ExecSync refused, nothing left")
    func podLifecycle() throws {
        guard let node = try CRINode.start() else { return }
        let pod = try node.runPod("lifecycle")
        let podNetwork = try node.podNetwork(pod)

        // hello: its output in the file the CRI named, exit 0, "Completed".
        let hello = try node.createContainer(pod: pod, podName: "lifecycle", name: "hello", command: ["/hello.nabla"])
        try node.client.call("StartContainer", ["containerId": hello])
        let helloStatus = try node.waitFor(hello, "CONTAINER_EXITED")
        #expect(helloStatus["exitCode"] as? Int == 0 && helloStatus["reason"] as? String == "Completed", "\(helloStatus)")
        let helloLog = node.containerLog("lifecycle", "hello", waitingFor: "Hello")
        #expect(helloLog.contains(try Regex(#"(?m)^\S+ stdout F Hello from a nabla guest!$"#)), "\(helloLog)")
        #expect(helloStatus["logPath"] as? String == node.directory + "/pods/lifecycle/hello.log", "\(helloStatus)")
        // The exit is processed: the runtime deleted the container, and with it the guest's TAP.
        try expectNoTAP(in: podNetwork)

        // CRI's tty and stdin: the guest's output through the terminal, in the same log.
        let tty = try node.createContainer(pod: pod, podName: "lifecycle", name: "tty", command: ["/hello.nabla"], tty: true, stdin: true)
        try node.client.call("StartContainer", ["containerId": tty])
        #expect(try node.waitFor(tty, "CONTAINER_EXITED")["exitCode"] as? Int == 0)
        let ttyLog = node.containerLog("lifecycle", "tty", waitingFor: "Hello")
        #expect(ttyLog.contains("stdout F Hello from a nabla guest!"), "\(ttyLog)")

        // A guest that fails: its status and "Error".
        let abort = try node.createContainer(pod: pod, podName: "lifecycle", name: "abort", command: ["/abort.nabla"])
        try node.client.call("StartContainer", ["containerId": abort])
        let abortStatus = try node.waitFor(abort, "CONTAINER_EXITED")
        #expect(abortStatus["exitCode"] as? Int == 134 && abortStatus["reason"] as? String == "Error", "\(abortStatus)")

        // udp-echo with the pod's memory limit: reachable from the node's
        // network at the pod's address; the limit is the cgroup's and sizes
        // the guest (64 MiB less the tender's 8).
        let echo = try node.createContainer(pod: pod, podName: "lifecycle", name: "echo", command: ["/udp-echo.nabla"], memory: 64 << 20)
        try node.client.call("StartContainer", ["containerId": echo])
        #expect(try node.waitFor(echo, "CONTAINER_RUNNING")["state"] as? String == "CONTAINER_RUNNING")
        #expect(node.containerLog("lifecycle", "echo", waitingFor: "ready").contains("udp-echo: ready on port 7"))
        let ip = try node.podIP(pod)
        let socket = try UDPSocket(bindTo: "0.0.0.0", in: node.network)
        #expect(try socket.exchange(Array("through the CRI".utf8), with: ip, port: 7) == Array("through the CRI".utf8))
        let pid = try node.containerPID(echo)
        let arguments = (FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") ?? Data()).split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
        #expect(arguments.first == "nabla-run" && arguments.dropFirst().starts(with: ["--mem", "56M"]), "\(arguments)")
        let limits = ["/sys/fs/cgroup/memory\(node.cgroupParent)/\(echo)/memory.limit_in_bytes",
                      "/sys/fs/cgroup/unified\(node.cgroupParent)/\(echo)/memory.max", "/sys/fs/cgroup\(node.cgroupParent)/\(echo)/memory.max"]
        let limit = limits.compactMap { try? String(contentsOfFile: $0, encoding: .utf8) }.first
        #expect(limit?.trimmingCharacters(in: .whitespacesAndNewlines) == String(64 << 20), "\(limits): \(limit ?? "none")")

        // ExecSync: refused, with the runtime's reason in the error.
        #expect {
            try node.client.call("ExecSync", ["containerId": echo, "cmd": ["sh"], "timeout": 5])
        } throws: { error in
            (error as? CRIError)?.details.contains("exec is not supported: a nabla container is one unikernel") == true
        }

        // StopContainer: SIGTERM, the tender's 143.
        try node.client.call("StopContainer", ["containerId": echo, "timeout": 10])
        let echoStatus = try node.waitFor(echo, "CONTAINER_EXITED")
        #expect(echoStatus["exitCode"] as? Int == 143 && echoStatus["reason"] as? String == "Error", "\(echoStatus)")
        try expectNoTAP(in: podNetwork)

        for container in [hello, tty, abort, echo] { try node.client.call("RemoveContainer", ["containerId": container]) }
        try node.removePod(pod)
        #expect(node.leftovers().isEmpty, "\(node.leftovers())")
    }

    @Test("several nabla containers in one pod: one after another each gets the pod's network; at once, the first keeps it and the next runs without a NIC and says so")
    func severalContainers() throws {
        guard let node = try CRINode.start() else { return }
        let pod = try node.runPod("several")
        let ip = try node.podIP(pod)
        let socket = try UDPSocket(bindTo: "0.0.0.0", in: node.network)

        for round in 1...2 {   // one after another: each echo answers on the pod's address
            let echo = try node.createContainer(pod: pod, podName: "several", name: "echo\(round)", command: ["/udp-echo.nabla"])
            try node.client.call("StartContainer", ["containerId": echo])
            _ = node.containerLog("several", "echo\(round)", waitingFor: "ready")
            #expect(try socket.exchange(Array("round \(round)".utf8), with: ip, port: 7) == Array("round \(round)".utf8), "round \(round)")
            try node.client.call("StopContainer", ["containerId": echo, "timeout": 10])
            try node.waitFor(echo, "CONTAINER_EXITED")
            try node.client.call("RemoveContainer", ["containerId": echo])
        }

        // At once: an echo holds the network; hello and a second echo run beside it without a NIC.
        let first = try node.createContainer(pod: pod, podName: "several", name: "first", command: ["/udp-echo.nabla"])
        try node.client.call("StartContainer", ["containerId": first])
        _ = node.containerLog("several", "first", waitingFor: "ready")
        let hello = try node.createContainer(pod: pod, podName: "several", name: "hello", command: ["/hello.nabla"])
        try node.client.call("StartContainer", ["containerId": hello])
        let helloStatus = try node.waitFor(hello, "CONTAINER_EXITED")
        #expect(helloStatus["exitCode"] as? Int == 0, "\(helloStatus)")
        let helloLog = node.containerLog("several", "hello", waitingFor: "Hello")
        #expect(helloLog.contains("Hello from a nabla guest!") && helloLog.contains("stderr F nabla-runc: the network namespace's interface is already another nabla guest's"),
                "\(helloLog)")
        let second = try node.createContainer(pod: pod, podName: "several", name: "second", command: ["/udp-echo.nabla"])
        try node.client.call("StartContainer", ["containerId": second])
        #expect(try node.waitFor(second, "CONTAINER_RUNNING")["state"] as? String == "CONTAINER_RUNNING")
        #expect(node.containerLog("several", "second", waitingFor: "no NIC").contains("this guest has no NIC"))
        #expect(try socket.exchange(Array("still the first".utf8), with: ip, port: 7) == Array("still the first".utf8))
        // The second one's removal leaves the first one's TAP alone.
        try node.client.call("StopContainer", ["containerId": second, "timeout": 10])
        try node.waitFor(second, "CONTAINER_EXITED")
        try node.client.call("RemoveContainer", ["containerId": second])
        #expect(try socket.exchange(Array("after the second".utf8), with: ip, port: 7) == Array("after the second".utf8))
        try node.client.call("StopContainer", ["containerId": first, "timeout": 10])
        try node.waitFor(first, "CONTAINER_EXITED")

        // Back to back, as fast as the CRI takes them: each create races the
        // previous guest's deletion (eth0's filter was once left behind for
        // the next create to trip on: "Exclusivity flag on").
        var quick: [String] = []
        for index in 1...8 {
            let id = try node.createContainer(pod: pod, podName: "several", name: "quick\(index)", command: ["/hello.nabla"])
            try node.client.call("StartContainer", ["containerId": id])
            quick.append(id)
        }
        for id in quick {
            #expect(try node.waitFor(id, "CONTAINER_EXITED")["exitCode"] as? Int == 0, "\(id)")
        }

        try node.removePod(pod)
        #expect(node.leftovers().isEmpty, "\(node.leftovers())")
    }

    @Test("twenty pods run and removed through the CRI leave nothing: shims, runtime state, tasks, mounts, network namespaces, interfaces, qdiscs, cgroups, leases")
    func twentyCycles() throws {
        guard let node = try CRINode.start() else { return }
        for cycle in 1...20 {
            let name = "cycle\(cycle)"
            let pod = try node.runPod(name)
            let guest = cycle.isMultiple(of: 2) ? "udp-echo" : "hello"
            let container = try node.createContainer(pod: pod, podName: name, name: guest, command: ["/\(guest).nabla"])
            try node.client.call("StartContainer", ["containerId": container])
            if guest == "hello" {
                #expect(try node.waitFor(container, "CONTAINER_EXITED")["exitCode"] as? Int == 0, "cycle \(cycle)")
            } else {
                #expect(node.containerLog(name, guest, waitingFor: "ready").contains("ready on port 7"), "cycle \(cycle)")
            }
            // As the kubelet on pod deletion: the pod stopped with its guest running (or exited), then removed.
            try node.removePod(pod)
        }
        #expect(node.leftovers().isEmpty, "\(node.leftovers())")
    }

    @Test("a Solo5 image in a pod: its manifest's NIC gets the pod's network, and it answers pings at the pod's address")
    func solo5Pod() throws {
        // net.spt answers ARP and pings for 10.0.0.2, the first pod address of this subnet.
        guard let node = try CRINode.start(subnet: "10.0.0.0/24") else { return }
        let pod = try node.runPod("solo5")
        #expect(try node.podIP(pod) == "10.0.0.2")
        let net = try node.createContainer(pod: pod, podName: "solo5", name: "net", command: ["/net.spt"])
        try node.client.call("StartContainer", ["containerId": net])
        _ = node.containerLog("solo5", "net", waitingFor: "serving ping")
        let ping = try node.network.run(OCIHost.tool("ping")!, ["-c", "3", "-i", "0.2", "-W", "2", "10.0.0.2"])
        #expect(ping.status == 0, "\(ping)")
        let status = try node.waitFor(net, "CONTAINER_EXITED")
        #expect(status["exitCode"] as? Int == 0, "\(status)")
        #expect(node.containerLog("solo5", "net", waitingFor: "net ok").contains("stdout F net ok"))
        try node.client.call("RemoveContainer", ["containerId": net])
        try node.removePod(pod)
        #expect(node.leftovers().isEmpty, "\(node.leftovers())")
    }

    /// The pod's namespace has no TAP and eth0 no ingress qdisc, within 5 s
    /// (the shim deletes an exited container after reporting its exit).
    private func expectNoTAP(in podNetwork: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let nsenter = CRINode.nsenter!
        var links = "", qdiscs = ""
        let deadline = Date().addingTimeInterval(5)
        repeat {
            links = try run(nsenter, ["--net=" + podNetwork, OCIHost.tool("ip")!, "-o", "link"]).stdout
            qdiscs = try run(nsenter, ["--net=" + podNetwork, OCIHost.tool("tc")!, "qdisc", "show", "dev", "eth0"]).stdout
            if !links.contains("nabla0") && !qdiscs.contains("ingress") { break }
            usleep(50_000)
        } while Date() < deadline
        #expect(!links.contains("nabla0") && !qdiscs.contains("ingress"), "\(links)\n\(qdiscs)", sourceLocation: sourceLocation)
    }
}
