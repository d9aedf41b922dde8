// OCI.swift: bundles, runtime roots, network namespaces and engines for
// the nabla-runc tests (OCIRuntimeTests.swift, OCIEngineTests.swift).
//
// Names made here start with "no" (container ids no-test-..., namespaces
// no-c-... and no-h-..., veth noa.../nob...), so they cannot collide with
// other tests on the same machine. Everything is removed on deinit, also
// when a test fails.

import Foundation
#if canImport(Glibc)
import Glibc
#endif

enum OCIHost {
    /// nabla-runc under test: NABLA_RUNC, else beside the tender under test.
    static var runtime: String {
        if let path = ProcessInfo.processInfo.environment["NABLA_RUNC"], !path.isEmpty {
            return path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
        }
        return URL(fileURLWithPath: Paths.tender).deletingLastPathComponent().appendingPathComponent("nabla-runc").path
    }

    static var isRoot: Bool { geteuid() == 0 }

    /// The path of a program in the system directories, or nil.
    static func tool(_ name: String) -> String? {
        ["/usr/sbin", "/sbin", "/usr/bin", "/bin"].map { $0 + "/" + name }.first { access($0, X_OK) == 0 }
    }

    static var hasNetworkTools: Bool { isRoot && tool("ip") != nil && tool("tc") != nil && tool("ping") != nil }
    static var hasPodman: Bool { isRoot && tool("podman") != nil && tool("conmon") != nil }
    static var hasContainerd: Bool { isRoot && tool("containerd") != nil && tool("ctr") != nil }

    /// Eight random hex digits, for unique names.
    static func tag() -> String { String(format: "%08x", UInt32.random(in: 0...UInt32.max)) }
}

/// An OCI bundle in a temporary directory: rootfs/ holds the chosen
/// guests, config.json is written from `config`.
final class OCIBundle {
    let path: String
    var rootfs: String { path + "/rootfs" }

    init(guests: [String]) throws {
        path = NSTemporaryDirectory() + "no-bundle-" + OCIHost.tag()
        try FileManager.default.createDirectory(atPath: path + "/rootfs", withIntermediateDirectories: true)
        for guest in guests {
            try FileManager.default.copyItem(atPath: try Paths.guest(guest), toPath: rootfs + "/" + guest + ".nabla")
        }
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    /// A minimal config like the ones engines write: the given args and
    /// namespaces, and anything else merged in from `extra`.
    static func config(args: [String], namespaces: [[String: String]] = [["type": "mount"], ["type": "pid"], ["type": "ipc"], ["type": "uts"]],
                       cgroupsPath: String? = nil, process extraProcess: [String: Any] = [:], linux extraLinux: [String: Any] = [:],
                       annotations: [String: String] = [:], top: [String: Any] = [:]) -> [String: Any] {
        var process: [String: Any] = ["args": args, "cwd": "/", "env": ["PATH=/"], "user": ["uid": 0, "gid": 0], "terminal": false]
        process.merge(extraProcess) { $1 }
        var linux: [String: Any] = ["namespaces": namespaces]
        if let cgroupsPath { linux["cgroupsPath"] = cgroupsPath }
        linux.merge(extraLinux) { $1 }
        var config: [String: Any] = ["ociVersion": "1.0.2", "process": process, "root": ["path": "rootfs"], "linux": linux,
                                     "annotations": annotations]
        config.merge(top) { $1 }
        return config
    }

    func write(_ config: [String: Any]) throws {
        let data = try JSONSerialization.data(withJSONObject: config, options: [.sortedKeys])
        try data.write(to: URL(fileURLWithPath: path + "/config.json"))
    }

    func writeRaw(_ text: String) throws {
        try text.write(toFile: path + "/config.json", atomically: true, encoding: .utf8)
    }
}

/// A --root directory for one test; containers left in it are deleted
/// with --force on deinit.
final class RuntimeRoot {
    let path: String
    /// Given to every command before it (--tender-seccomp ...).
    let globalOptions: [String]

    init(globalOptions: [String] = []) throws {
        self.globalOptions = globalOptions
        path = NSTemporaryDirectory() + "no-root-" + OCIHost.tag()
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit {
        for id in (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? [] {
            _ = try? run(OCIHost.runtime, ["--root", path, "delete", "--force", id], timeout: 20)
        }
        try? FileManager.default.removeItem(atPath: path)
    }

    /// Runs nabla-runc --root ROOT with `arguments`.
    func runc(_ arguments: [String], timeout: Double = 20) throws -> Outcome {
        try run(OCIHost.runtime, ["--root", path] + globalOptions + arguments, timeout: timeout)
    }

    /// `state ID` parsed; throws if it fails.
    func state(_ id: String) throws -> [String: Any] {
        let outcome = try runc(["state", id])
        guard outcome.status == 0, let object = try JSONSerialization.jsonObject(with: Data(outcome.stdout.utf8)) as? [String: Any] else {
            throw HarnessError("state \(id) failed: \(outcome)")
        }
        return object
    }

    /// Waits until `state ID` says `status`; returns the last state.
    @discardableResult
    func waitForStatus(_ id: String, _ status: String, timeout: Double = 10) throws -> [String: Any] {
        let deadline = Date().addingTimeInterval(timeout)
        var last: [String: Any] = [:]
        while Date() < deadline {
            last = try state(id)
            if last["status"] as? String == status { return last }
            usleep(10_000)
        }
        throw HarnessError("container \(id) did not become \(status) within \(timeout) s: \(last)")
    }

    func containerFolderExists(_ id: String) -> Bool { FileManager.default.fileExists(atPath: path + "/" + id) }
}

/// `create` run in the background with its stdout and stderr (and so the
/// guest's, which inherits them) in files.
final class CreatedContainer {
    let id: String
    let outPath: String
    let errPath: String
    let pidFile: String
    let createStatus: Int32

    init(root: RuntimeRoot, bundle: OCIBundle, id: String = "no-test-" + OCIHost.tag()) throws {
        self.id = id
        outPath = bundle.path + "/guest.out"
        errPath = bundle.path + "/guest.err"
        pidFile = bundle.path + "/pid"
        let child = try Child(OCIHost.runtime, ["--root", root.path] + root.globalOptions + ["create", "--bundle", bundle.path, "--pid-file", pidFile, id],
                              stdout: outPath, stderr: errPath)
        guard let status = child.wait(timeout: 20) else { throw HarnessError("create \(id) did not finish in 20 s") }
        createStatus = status
    }

    var stdout: String { (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? "" }
    var stderr: String { (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? "" }
    var pid: Int32? { (try? String(contentsOfFile: pidFile, encoding: .utf8)).flatMap { Int32($0) } }
}

/// Two network namespaces joined by a veth pair: the container's, whose
/// end is eth0 with 10.213.0.2/24 and a default route via 10.213.0.1, and
/// a host side holding 10.213.0.1. The addresses exist only inside these
/// namespaces, so parallel tests do not collide.
final class NamespacePair {
    let container: String
    let host: String
    let containerAddress = "10.213.0.2"
    let hostAddress = "10.213.0.1"
    var containerPath: String { "/var/run/netns/" + container }
    private var made: [String] = []

    init() throws {
        let tag = OCIHost.tag()
        container = "no-c-" + tag
        host = "no-h-" + tag
        for name in [container, host] {
            try NetHost.ip(["netns", "add", name])
            made.append(name)
        }
        let a = "noa" + tag, b = "nob" + tag
        try NetHost.ip(["link", "add", a, "type", "veth", "peer", "name", b])
        try NetHost.ip(["link", "set", a, "netns", container])
        try NetHost.ip(["link", "set", b, "netns", host])
        try NetHost.ip(["-n", container, "link", "set", a, "name", "eth0"])
        try NetHost.ip(["-n", container, "addr", "add", containerAddress + "/24", "dev", "eth0"])
        try NetHost.ip(["-n", container, "link", "set", "eth0", "up"])
        try NetHost.ip(["-n", container, "link", "set", "lo", "up"])
        try NetHost.ip(["-n", container, "route", "add", "default", "via", hostAddress])
        try NetHost.ip(["-n", host, "addr", "add", hostAddress + "/24", "dev", b])
        try NetHost.ip(["-n", host, "link", "set", b, "up"])
    }

    deinit {
        for name in made { _ = try? NetHost.ip(["netns", "del", name]) }
    }

    /// Runs a tool inside the host-side namespace.
    func inHost(_ tool: String, _ arguments: [String], timeout: Double = 30) throws -> Outcome {
        try run(try NetHost.tool("ip", package: "iproute2"), ["netns", "exec", host, tool] + arguments, timeout: timeout)
    }

    /// `ip -n CONTAINER ...` output, whatever its status.
    func inContainer(_ arguments: [String]) throws -> Outcome {
        try run(try NetHost.tool("ip", package: "iproute2"), ["-n", container] + arguments, timeout: 10)
    }

    /// The container side's tc qdiscs on `device`.
    func qdiscs(_ device: String) throws -> String {
        try run(try NetHost.tool("tc", package: "iproute2"), ["-n", container, "qdisc", "show", "dev", device], timeout: 10).stdout
    }

    /// Processes in the container namespace.
    func pids() throws -> [String] {
        try NetHost.ip(["netns", "pids", container]).stdout.split(separator: "\n").map(String.init)
    }
}

/// The directories an absolute cgroupsPath lands in: one per mounted
/// hierarchy (v1 controllers, the v2 unified one, or a pure v2 root).
func cgroupDirectories(_ cgroupsPath: String) -> [String] {
    let hierarchies = ((try? FileManager.default.contentsOfDirectory(atPath: "/sys/fs/cgroup")) ?? []).map { "/sys/fs/cgroup/" + $0 } + ["/sys/fs/cgroup"]
    return hierarchies.filter { FileManager.default.fileExists(atPath: $0 + "/cgroup.procs") }.map { $0 + cgroupsPath }
}

/// A static Linux program, not a nabla guest, that writes "native" to
/// /marker and /out/marker and exits: if anything ever runs it, a marker
/// shows it. Built with the system's gcc (tools/install-deps installs it).
enum NativeMarker {
    static var canBuild: Bool { OCIHost.tool("gcc") != nil }

    static let source = """
        #include <fcntl.h>
        #include <unistd.h>
        int main(void) {
            const char *paths[] = {"/marker", "/out/marker"};
            for (int i = 0; i < 2; i++) {
                int fd = open(paths[i], O_WRONLY | O_CREAT | O_TRUNC, 0644);
                if (fd >= 0) { write(fd, "native\\n", 7); close(fd); }
            }
            return 0;
        }
        """

    /// Compiles the program to `path`.
    static func build(to path: String) throws {
        try withTemporaryDirectory { directory in
            try source.write(toFile: directory + "/marker.c", atomically: true, encoding: .utf8)
            let gcc = try run(OCIHost.tool("gcc") ?? "gcc", ["-static", "-O", "-o", path, directory + "/marker.c"], timeout: 60)
            guard gcc.status == 0 else { throw HarnessError("cannot build the native marker program: \(gcc)") }
        }
    }
}

/// A loop device over a 1 MiB file of zeros in a temporary directory,
/// detached and removed on deinit.
final class LoopDevice {
    let directory: String
    let file: String
    let device: String
    /// The device's numbers, from /sys/class/block/NAME/dev.
    let major: Int
    let minor: Int

    /// Whether one can be made here: root, losetup, and a free loop device.
    static let available: Bool = {
        guard OCIHost.isRoot, let losetup = OCIHost.tool("losetup") else { return false }
        return (try? run(losetup, ["-f"]))?.status == 0
    }()

    init() throws {
        directory = NSTemporaryDirectory() + "no-loop-" + OCIHost.tag()
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        file = directory + "/backing.img"
        guard FileManager.default.createFile(atPath: file, contents: Data(count: 1 << 20)) else { throw HarnessError("cannot create \(file)") }
        let attach = try run(OCIHost.tool("losetup") ?? "losetup", ["-f", "--show", file])
        guard attach.status == 0 else {
            try? FileManager.default.removeItem(atPath: directory)
            throw HarnessError("losetup -f --show \(file) failed: \(attach)")
        }
        device = attach.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let name = URL(fileURLWithPath: device).lastPathComponent
        let numbers = try String(contentsOfFile: "/sys/class/block/\(name)/dev", encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines).split(separator: ":").compactMap { Int($0) }
        guard numbers.count == 2 else { throw HarnessError("no device numbers for \(device)") }
        major = numbers[0]
        minor = numbers[1]
    }

    deinit {
        _ = try? run(OCIHost.tool("losetup") ?? "losetup", ["-d", device])
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// The backing file's bytes, read through the file (not the device).
    var content: Data { (try? Data(contentsOf: URL(fileURLWithPath: file))) ?? Data() }

    /// linux.devices and linux.resources.devices as podman writes them for
    /// `--device DEVICE:path` with `access`.
    func grant(at path: String, access: String) -> [String: Any] {
        ["devices": [["path": path, "type": "b", "major": major, "minor": minor, "fileMode": 0o600, "uid": 0, "gid": 0]],
         "resources": ["devices": [["allow": false, "access": "rwm"],
                                   ["allow": true, "type": "b", "major": major, "minor": minor, "access": access]]]]
    }
}

/// podman's image store is shared by every suite that builds, imports or
/// removes images (the podman and CRI suites, the docs' podman blocks);
/// done at once, a build's cache lookup can meet a layer another test is
/// removing ("layer not known"). Those steps take this lock; running
/// containers does not.
enum PodmanImages {
    static let lock = NSLock()
}
