// CRI.swift: a Kubernetes node in miniature for the CRI tests
// (CRITests.swift): Debian's containerd with its CRI plugin, a private
// instance of the test's own, driven over the CRI's gRPC API as the kubelet
// drives it (tools/cri/cri-client.py, with tools/cri/cri.proto).
//
// Everything is the test's: containerd's root, state, sockets and config
// in a temporary directory; its network namespace (the "node's" network,
// where Debian's CNI bridge plugin makes the pods' bridge, so no frame
// reaches the host's network); the pods' cgroup parent; the images (a
// pause image FROM scratch holding tools/cri/pause.c built static, and a
// nabla image with the guests), built with podman and imported. Two runtime
// handlers, both containerd's runc v2 shim: `nabla` with BinaryName
// nabla-runc (docs/oci.md's configuration) and `runc`. deinit removes the
// pods, then kills what is left (containerd, its shims, the containers'
// processes), unmounts, and deletes the netns, cgroups and directory, also
// after a failed test.

import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A CRI v1 client: tools/cri/cri-client.py, kept running, one JSON
/// request and answer a line through two FIFOs.
final class CRIClient {
    private let child: Child
    private let requests: UnsafeMutablePointer<FILE>
    private let answers: UnsafeMutablePointer<FILE>
    private let logPath: String

    static let python = "/usr/bin/python3"
    static var script: String { Paths.packageRoot.appendingPathComponent("tools/cri/cri-client.py").path }

    init(socket: String, directory: String) throws {
        let input = directory + "/cri-requests", output = directory + "/cri-answers"
        guard mkfifo(input, 0o600) == 0, mkfifo(output, 0o600) == 0 else {
            throw HarnessError("mkfifo in \(directory): \(String(cString: strerror(errno)))")
        }
        // posix_spawn returns only once the child has opened its stdio, and
        // opening one end of a FIFO waits for the other: so this process
        // holds both FIFOs open read-write while the child starts, then
        // keeps only its own ends (so that the answers end on the child's exit).
        let holdInput = open(input, O_RDWR | O_CLOEXEC), holdOutput = open(output, O_RDWR | O_CLOEXEC)
        defer {
            close(holdInput)
            close(holdOutput)
        }
        logPath = directory + "/cri-client.log"
        child = try Child(Self.python, [Self.script, socket], stdin: input, stdout: output, stderr: logPath)
        // A client that died must fail the test, not end the process with SIGPIPE.
        signal(SIGPIPE, SIG_IGN)
        guard let requests = fopen(input, "we"), let answers = fopen(output, "re") else {
            throw HarnessError("cannot open the CRI client's FIFOs: \(String(cString: strerror(errno)))")
        }
        self.requests = requests
        self.answers = answers
    }

    deinit {
        fclose(requests)
        fclose(answers)
        _ = child.wait(timeout: 5)
    }

    /// Calls RuntimeService/`method`; returns the response, or throws the
    /// gRPC error (code and details) as a `CRIError`.
    @discardableResult
    func call(_ method: String, _ request: [String: Any] = [:], timeout: Double = 60) throws -> [String: Any] {
        let answer = try exchange(method, request, timeout: timeout)
        if let error = answer["error"] as? [String: Any] {
            throw CRIError(method: method, code: error["code"] as? String ?? "?", details: error["details"] as? String ?? "")
        }
        return answer["response"] as? [String: Any] ?? [:]
    }

    /// Calls `method` and returns the whole answer with the call's duration.
    func exchange(_ method: String, _ request: [String: Any], timeout: Double = 60) throws -> [String: Any] {
        let line = try JSONSerialization.data(withJSONObject: ["method": method, "request": request, "timeout": timeout])
        _ = line.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, requests) }
        fputs("\n", requests)
        fflush(requests)
        var buffer: UnsafeMutablePointer<CChar>?
        var capacity = 0
        defer { free(buffer) }
        guard getline(&buffer, &capacity, answers) > 0, let buffer,
              let answer = try JSONSerialization.jsonObject(with: Data(String(cString: buffer).utf8)) as? [String: Any] else {
            throw HarnessError("the CRI client ended (\(method)); its log: \((try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "")")
        }
        return answer
    }
}

/// A CRI call's gRPC error.
struct CRIError: Error, CustomStringConvertible {
    let method: String
    let code: String
    let details: String
    var description: String { "\(method): \(code): \(details)" }
}

/// containerd started but its CRI plugin did not: the tests skip, saying why.
struct CRIUnavailable: Error, CustomStringConvertible {
    let reason: String
    var description: String { reason }
}

/// The node: containerd with its CRI plugin, its network, its images.
final class CRINode {
    let tag = OCIHost.tag()
    let directory: String
    /// The node's network namespace: containerd, the CNI bridge, the pods' peer ends.
    let network: NetNamespace
    /// The pods' cgroup parent (cgroupfs), /no-cri-TAG.
    let cgroupParent: String
    let pauseImage: String
    let nablaImage: String
    private(set) var client: CRIClient!
    var socket: String { directory + "/containerd.sock" }
    /// Where the shims run the runtimes' --root (runc's and nabla-runc's state).
    var runtimeRoot: String { directory + "/runc" }
    private var daemon: Child?
    private var pods: [String] = []
    private var podNetworks: [String] = []

    /// The guests in the nabla image, at /NAME.nabla, and the Solo5 images, at /NAME.spt.
    static let guests = ["hello", "udp-echo", "abort"]
    static let solo5Guests = ["net"]
    /// The pods' subnet: the first pod gets its .2, the bridge has .1.
    let subnet: String

    static var nsenter: String? { OCIHost.tool("nsenter") }

    /// Why the CRI tests cannot run here, or nil if they can.
    static var unavailable: String? {
        guard OCIHost.isRoot else { return "needs root" }
        for tool in ["containerd", "ctr", "containerd-shim-runc-v2", "podman", "nsenter", "protoc", "gcc", "ip", "tc"] where OCIHost.tool(tool) == nil {
            return "needs \(tool) (tools/install-deps)"
        }
        guard FileManager.default.isExecutableFile(atPath: "/usr/lib/cni/bridge") else { return "needs Debian's CNI plugins in /usr/lib/cni (containernetworking-plugins)" }
        guard (try? run(CRIClient.python, ["-c", "import grpc, google.protobuf"]))?.status == 0 else {
            return "needs Debian's python3-grpcio and python3-protobuf"
        }
        return nil
    }

    /// A node, or nil (having printed why) if containerd's CRI cannot run here.
    static func start(subnet: String = "10.89.77.0/24") throws -> CRINode? {
        do {
            return try CRINode(subnet: subnet)
        } catch let error as CRIUnavailable {
            print("CRI test skipped: \(error)")
            return nil
        }
    }

    private init(subnet: String) throws {
        self.subnet = subnet
        directory = "/tmp/no-cri-" + tag
        cgroupParent = "/no-cri-" + tag
        pauseImage = "localhost/no-cri-pause-\(tag):latest"
        nablaImage = "localhost/no-cri-nabla-\(tag):latest"
        network = try NetNamespace()
        try FileManager.default.createDirectory(atPath: directory + "/cni", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: runtimeRoot, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
        do {
            try writeConfiguration()
            let daemon = try Child(Self.nsenter!, ["--net=/run/netns/" + network.name, OCIHost.tool("containerd")!,
                                                   "--config", directory + "/config.toml"],
                                   stdout: directory + "/containerd.log", stderr: directory + "/containerd.log")
            self.daemon = daemon
            let deadline = Date().addingTimeInterval(15)
            while !FileManager.default.fileExists(atPath: socket) && daemon.isRunning && Date() < deadline { usleep(20_000) }
            guard FileManager.default.fileExists(atPath: socket) else {
                throw HarnessError("containerd did not start: \(log)")
            }
            client = try CRIClient(socket: socket, directory: directory)
            // The CRI plugin can fail to load while containerd runs on.
            do {
                _ = try client.call("Version", ["version": "v1"], timeout: 10)
            } catch let error as CRIError {
                throw CRIUnavailable(reason: "containerd's CRI plugin does not answer here (\(error)); containerd's log: \(log.suffix(2000))")
            }
            try importImages()
        } catch {
            cleanUp()
            throw error
        }
    }

    deinit {
        for pod in pods where client != nil {
            _ = try? client.call("StopPodSandbox", ["podSandboxId": pod], timeout: 30)
            _ = try? client.call("RemovePodSandbox", ["podSandboxId": pod], timeout: 30)
        }
        cleanUp()
    }

    var log: String { (try? String(contentsOfFile: directory + "/containerd.log", encoding: .utf8)) ?? "" }

    // MARK: the CRI as the kubelet uses it

    /// The pod's sandbox configuration; `name` is its metadata name.
    func sandboxConfig(_ name: String) -> [String: Any] {
        ["metadata": ["name": name, "uid": "uid-\(name)-\(tag)", "namespace": "default"],
         "hostname": name, "logDirectory": directory + "/pods/" + name,
         "linux": ["cgroupParent": cgroupParent]]
    }

    /// RunPodSandbox with `handler`; returns the pod's id.
    func runPod(_ name: String, handler: String = "nabla") throws -> String {
        let response = try client.call("RunPodSandbox", ["config": sandboxConfig(name), "runtimeHandler": handler])
        guard let id = response["podSandboxId"] as? String else { throw HarnessError("RunPodSandbox: no id in \(response)") }
        pods.append(id)
        if let path = try? podNetwork(id) { podNetworks.append(path) }
        return id
    }

    /// StopPodSandbox and RemovePodSandbox.
    func removePod(_ id: String) throws {
        try client.call("StopPodSandbox", ["podSandboxId": id])
        try client.call("RemovePodSandbox", ["podSandboxId": id])
        pods.removeAll { $0 == id }
    }

    /// The pod's IPv4 address on the node's bridge.
    func podIP(_ id: String) throws -> String {
        let status = try client.call("PodSandboxStatus", ["podSandboxId": id])
        guard let ip = (status["status"] as? [String: Any]).flatMap({ $0["network"] as? [String: Any] })?["ip"] as? String, !ip.isEmpty else {
            throw HarnessError("PodSandboxStatus has no IP: \(status)")
        }
        return ip
    }

    /// The path of the pod's network namespace (/var/run/netns/cni-...), from
    /// the sandbox's runtime spec in PodSandboxStatus's verbose info.
    func podNetwork(_ id: String) throws -> String {
        let status = try client.call("PodSandboxStatus", ["podSandboxId": id, "verbose": true])
        guard let text = (status["info"] as? [String: Any])?["info"] as? String,
              let info = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any],
              let spec = info["runtimeSpec"] as? [String: Any], let linux = spec["linux"] as? [String: Any],
              let namespaces = linux["namespaces"] as? [[String: Any]],
              let path = namespaces.first(where: { $0["type"] as? String == "network" })?["path"] as? String else {
            throw HarnessError("PodSandboxStatus names no network namespace: \(status)")
        }
        return path
    }

    /// CreateContainer in pod `pod` (named `podName`) running `command`
    /// from the nabla image; its log goes to LOGDIR/`name`.log.
    func createContainer(pod: String, podName: String, name: String, command: [String], memory: Int64? = nil,
                         tty: Bool = false, stdin: Bool = false) throws -> String {
        var config: [String: Any] = ["metadata": ["name": name], "image": ["image": nablaImage], "command": command,
                                     "logPath": name + ".log", "tty": tty, "stdin": stdin]
        if let memory { config["linux"] = ["resources": ["memoryLimitInBytes": String(memory)]] }
        let response = try client.call("CreateContainer", ["podSandboxId": pod, "config": config, "sandboxConfig": sandboxConfig(podName)])
        guard let id = response["containerId"] as? String else { throw HarnessError("CreateContainer: no id in \(response)") }
        return id
    }

    /// ContainerStatus's status (state, exitCode, reason, logPath, ...).
    func containerStatus(_ id: String) throws -> [String: Any] {
        try client.call("ContainerStatus", ["containerId": id])["status"] as? [String: Any] ?? [:]
    }

    /// The pid of the container's process, from ContainerStatus's verbose info.
    func containerPID(_ id: String) throws -> Int32 {
        let status = try client.call("ContainerStatus", ["containerId": id, "verbose": true])
        guard let text = (status["info"] as? [String: Any])?["info"] as? String,
              let info = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any],
              let pid = info["pid"] as? Int, pid > 0 else {
            throw HarnessError("ContainerStatus names no pid: \(status)")
        }
        return Int32(pid)
    }

    /// Waits until the container's state is `state` (CONTAINER_EXITED, ...).
    @discardableResult
    func waitFor(_ id: String, _ state: String, timeout: Double = 10) throws -> [String: Any] {
        let deadline = Date().addingTimeInterval(timeout)
        var status = try containerStatus(id)
        while status["state"] as? String != state && Date() < deadline {
            usleep(20_000)
            status = try containerStatus(id)
        }
        return status
    }

    /// The container's log file as containerd wrote it (CRI format:
    /// "TIME stdout|stderr F|P TEXT" lines), waiting up to 5 s for `text`.
    func containerLog(_ podName: String, _ name: String, waitingFor text: String = "") -> String {
        let path = directory + "/pods/" + podName + "/" + name + ".log"
        let deadline = Date().addingTimeInterval(5)
        var log = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        while !log.contains(text) && Date() < deadline {
            usleep(20_000)
            log = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        }
        return log
    }

    // MARK: what is left behind

    /// Everything of this node's that should be gone once its pods are
    /// removed: one line per leftover, empty if none.
    func leftovers() -> [String] {
        var found: [String] = []
        for pid in shimProcesses() { found.append("shim process \(pid)") }
        let runtimeStates = (try? FileManager.default.contentsOfDirectory(atPath: runtimeRoot + "/k8s.io")) ?? []
        for id in runtimeStates { found.append("runtime state \(runtimeRoot)/k8s.io/\(id)") }
        let tasks = (try? FileManager.default.contentsOfDirectory(atPath: directory + "/state/io.containerd.runtime.v2.task/k8s.io")) ?? []
        for id in tasks { found.append("shim task folder \(id)") }
        for mount in mounts() { found.append("mount \(mount)") }
        for path in podNetworks where FileManager.default.fileExists(atPath: path) { found.append("network namespace \(path)") }
        for cgroup in cgroups() { found.append("cgroup \(cgroup)") }
        let links = (try? network.ip(["-o", "link", "show"]).stdout) ?? ""
        for line in links.split(separator: "\n") where line.contains("veth") || line.contains("nabla") || line.contains("tap") {
            found.append("interface in the node's namespace: \(line.prefix(80))")
        }
        let qdiscs = (try? run(OCIHost.tool("tc")!, ["-n", network.name, "qdisc", "show"]).stdout) ?? ""
        for line in qdiscs.split(separator: "\n") where line.contains("ingress") { found.append("qdisc \(line)") }
        if let leases = try? ctr(["leases", "ls", "-q"]).stdout {
            for lease in leases.split(separator: "\n") { found.append("containerd lease \(lease)") }
        }
        if let containers = try? ctr(["containers", "ls", "-q"]).stdout {
            for container in containers.split(separator: "\n") { found.append("containerd container \(container)") }
        }
        return found
    }

    /// `ctr -n k8s.io` on this node's containerd.
    func ctr(_ arguments: [String]) throws -> Outcome {
        try run(OCIHost.tool("ctr")!, ["-a", socket, "-n", "k8s.io"] + arguments)
    }

    /// The shims of this containerd (their -address names its socket).
    private func shimProcesses() -> [pid_t] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { entry -> pid_t? in
            guard let pid = pid_t(entry), let data = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline") else { return nil }
            let words = data.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
            return words.first?.hasSuffix("containerd-shim-runc-v2") == true && words.contains(socket) ? pid : nil
        }
    }

    /// Mount points under this node's directory, deepest last.
    private func mounts() -> [String] {
        let text = (try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap { line in
            let fields = line.split(separator: " ")
            guard fields.count > 4 else { return nil }
            let point = String(fields[4]).replacingOccurrences(of: "\\040", with: " ")
            return point.hasPrefix(directory + "/") ? point : nil
        }
    }

    /// The cgroups below the pods' parent, in every hierarchy, deepest first.
    private func cgroups(includingParent: Bool = false) -> [String] {
        let hierarchies = (try? FileManager.default.contentsOfDirectory(atPath: "/sys/fs/cgroup")) ?? []
        var found: [String] = []
        for hierarchy in hierarchies {
            let parent = "/sys/fs/cgroup/\(hierarchy)\(cgroupParent)"
            guard FileManager.default.fileExists(atPath: parent) else { continue }
            let children = ((try? FileManager.default.contentsOfDirectory(atPath: parent)) ?? []).filter {
                var isDirectory: ObjCBool = false
                return FileManager.default.fileExists(atPath: parent + "/" + $0, isDirectory: &isDirectory) && isDirectory.boolValue
            }
            found += children.map { parent + "/" + $0 }
            if includingParent { found.append(parent) }
        }
        return found
    }

    // MARK: setting up and tearing down

    private func writeConfiguration() throws {
        let cni = """
            {"cniVersion": "1.0.0", "name": "no-cri-\(tag)", "plugins": [
              {"type": "bridge", "bridge": "nocri0", "isGateway": true, "ipMasq": false,
               "ipam": {"type": "host-local", "ranges": [[{"subnet": "\(subnet)"}]],
                        "routes": [{"dst": "0.0.0.0/0"}], "dataDir": "\(directory)/ipam"}},
              {"type": "loopback"}]}
            """
        try cni.write(toFile: directory + "/cni/10-no-cri.conflist", atomically: true, encoding: .utf8)
        let cri = #"plugins."io.containerd.grpc.v1.cri""#
        let config = """
            version = 2
            root = "\(directory)/root"
            state = "\(directory)/state"
            [grpc]
              address = "\(socket)"
            [ttrpc]
              address = "\(socket).ttrpc"
            [\(cri)]
              sandbox_image = "\(pauseImage)"
              stream_server_address = "127.0.0.1"
              stream_server_port = "0"
              restrict_oom_score_adj = true
              [\(cri).cni]
                bin_dir = "/usr/lib/cni"
                conf_dir = "\(directory)/cni"
              [\(cri).containerd]
                default_runtime_name = "runc"
                [\(cri).containerd.runtimes.runc]
                  runtime_type = "io.containerd.runc.v2"
                  [\(cri).containerd.runtimes.runc.options]
                    Root = "\(runtimeRoot)"
                [\(cri).containerd.runtimes.nabla]
                  runtime_type = "io.containerd.runc.v2"
                  [\(cri).containerd.runtimes.nabla.options]
                    BinaryName = "\(OCIHost.runtime)"
                    Root = "\(runtimeRoot)"
                    SystemdCgroup = false
            """
        try config.write(toFile: directory + "/config.toml", atomically: true, encoding: .utf8)
    }

    /// Builds the pause and nabla images with podman and imports them into
    /// containerd's k8s.io namespace, where the CRI finds them.
    private func importImages() throws {
        let context = directory + "/images"
        try FileManager.default.createDirectory(atPath: context, withIntermediateDirectories: true)
        let pauseSource = Paths.packageRoot.appendingPathComponent("tools/cri/pause.c").path
        let compiled = try run(OCIHost.tool("gcc")!, ["-static", "-O2", "-o", context + "/pause", pauseSource], timeout: 60)
        guard compiled.status == 0 else { throw HarnessError("cannot build the pause program: \(compiled)") }
        var nabla = ["FROM scratch"]
        for guest in Self.guests {
            try FileManager.default.copyItem(atPath: try Paths.guest(guest), toPath: context + "/" + guest + ".nabla")
            nabla.append("COPY \(guest).nabla /\(guest).nabla")
        }
        for guest in Self.solo5Guests {
            try FileManager.default.copyItem(atPath: try solo5Guest(guest), toPath: context + "/" + guest + ".spt")
            nabla.append("COPY \(guest).spt /\(guest).spt")
        }
        nabla.append(#"CMD ["/hello.nabla"]"#)
        try "FROM scratch\nCOPY pause /pause\nENTRYPOINT [\"/pause\"]\n".write(toFile: context + "/Pausefile", atomically: true, encoding: .utf8)
        try nabla.joined(separator: "\n").write(toFile: context + "/Nablafile", atomically: true, encoding: .utf8)
        let podman = OCIHost.tool("podman")!
        for (image, file) in [(pauseImage, "Pausefile"), (nablaImage, "Nablafile")] {
            defer { Podman.removeImage(image) }
            let build = try run(podman, ["build", "-q", "-t", image, "-f", context + "/" + file, context], timeout: 120)
            guard build.status == 0 else { throw HarnessError("podman build \(image): \(build)") }
            let archive = context + "/" + file + ".tar"
            let saved = try run(podman, ["save", "--format", "oci-archive", "-o", archive, image], timeout: 60)
            guard saved.status == 0 else { throw HarnessError("podman save \(image): \(saved)") }
            let imported = try ctr(["images", "import", archive])
            guard imported.status == 0 else { throw HarnessError("ctr images import \(image): \(imported)") }
        }
    }

    /// Kills and removes everything the node made, whatever state a failed
    /// test left it in.
    private func cleanUp() {
        if let daemon, daemon.isRunning {
            Glibc.kill(daemon.pid, SIGTERM)
            if daemon.wait(timeout: 10) == nil { daemon.kill() }
        }
        // Shims left by a failed test, then whatever containers they ran.
        for pid in shimProcesses() { Glibc.kill(pid, SIGKILL) }
        for id in (try? FileManager.default.contentsOfDirectory(atPath: runtimeRoot + "/k8s.io")) ?? [] {
            _ = try? run(OCIHost.runtime, ["--root", runtimeRoot + "/k8s.io", "delete", "--force", id])
            _ = try? run(OCIHost.tool("runc") ?? "runc", ["--root", runtimeRoot + "/k8s.io", "delete", "--force", id])
        }
        for point in mounts().reversed() { umount2(point, Int32(MNT_DETACH)) }
        for path in podNetworks where FileManager.default.fileExists(atPath: path) {
            umount2(path, Int32(MNT_DETACH))
            unlink(path)
        }
        for cgroup in cgroups(includingParent: true) { rmdir(cgroup) }
        try? FileManager.default.removeItem(atPath: directory)
    }
}
