// What a bundle, an image or a planted file cannot make nabla-runc do
// (docs/oci.md, "What nabla-runc trusts in a bundle"; issue 19's findings
// 1, 2, 8 and 9): run anything from the image outside the tender, hand the
// guest a host block device the engine did not grant, follow a symlink in
// its state directory or beside the pid file, or drop a mount without a word.
//
// Bundles and roots are built in temporary directories; the podman tests
// are in OCIEngineTests.swift.

import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The annotations with which the CRI (containerd, CRI-O) mark a pod's sandbox.
let sandboxAnnotations = ["io.kubernetes.cri.container-type", "io.kubernetes.cri-o.ContainerType"]

@Suite("OCI runtime: pod sandbox")
struct OCISandboxTests {
    /// The real path of nabla-runc under test, as /proc/PID/exe shows it.
    static var runtimeExecutable: String { URL(fileURLWithPath: OCIHost.runtime).resolvingSymlinksInPath().path }

    @Test("a pod's sandbox container runs nabla-runc's own pause, never the rootfs's program; a second container joins its namespaces; TERM ends it",
          .enabled(if: OCIHost.isRoot && NativeMarker.canBuild, "needs root (namespaces) and gcc (tools/install-deps)"),
          arguments: sandboxAnnotations)
    func sandboxRunsBuiltInPause(annotation: String) throws {
        let root = try RuntimeRoot(), bundle = try OCIBundle(guests: ["hello"])
        // What the CRI's sandbox spec names: /pause, here a static program
        // that would leave rootfs/marker if it ran (natively, under any runtime).
        try NativeMarker.build(to: bundle.rootfs + "/pause")
        try bundle.write(OCIBundle.config(args: ["/pause"],
                                          namespaces: [["type": "network"], ["type": "ipc"], ["type": "uts"], ["type": "mount"]],
                                          annotations: [annotation: "sandbox"],
                                          top: ["mounts": [["destination": "/proc", "type": "proc", "source": "proc"]]]))
        let sandbox = try CreatedContainer(root: root, bundle: bundle)
        #expect(sandbox.createStatus == 0, "\(sandbox.stderr)")
        let created = try root.state(sandbox.id)
        #expect(created["status"] as? String == "created")
        #expect(try root.runc(["start", sandbox.id]).status == 0)
        let running = try root.waitForStatus(sandbox.id, "running")
        let pid = try #require(running["pid"] as? Int)
        #expect(Int32(pid) == sandbox.pid)
        usleep(300_000)   // the program, had it run, would have written its marker at once
        #expect(!FileManager.default.fileExists(atPath: bundle.rootfs + "/marker"), "the rootfs's /pause ran")
        #expect(try root.state(sandbox.id)["status"] as? String == "running", "the pause waits")
        let executable = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/exe")
        #expect(executable == Self.runtimeExecutable, "the sandbox's process is nabla-runc itself: \(executable)")
        let descriptors = try FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd").sorted()
        #expect(descriptors == ["0", "1", "2"], "the pause holds stdio and nothing else: \(descriptors)")

        // The pod's guest joins the sandbox's namespaces by /proc/PID/ns/*, as under the CRI.
        let guestBundle = try OCIBundle(guests: ["hello"])
        try guestBundle.write(OCIBundle.config(args: ["/hello.nabla"], namespaces: ["network", "ipc", "uts"].map {
            ["type": $0, "path": "/proc/\(pid)/ns/" + ($0 == "network" ? "net" : $0)]
        } + [["type": "mount"]]))
        let guest = try CreatedContainer(root: root, bundle: guestBundle)
        #expect(guest.createStatus == 0, "\(guest.stderr)")
        let guestPid = try #require(guest.pid)
        for namespace in ["net", "ipc", "uts"] {
            let ours = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(guestPid)/ns/\(namespace)")
            let sandboxes = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/ns/\(namespace)")
            #expect(ours == sandboxes, "\(namespace): the guest is in the sandbox's namespace")
        }
        #expect(try root.runc(["start", guest.id]).status == 0)
        try root.waitForStatus(guest.id, "stopped")
        #expect(guest.stdout == "Hello from a nabla guest!\n", "\(guest.stdout)\(guest.stderr)")
        #expect(try root.runc(["delete", guest.id]).status == 0)

        #expect(try root.runc(["kill", sandbox.id, "TERM"]).status == 0)
        try root.waitForStatus(sandbox.id, "stopped")
        #expect(try root.runc(["delete", sandbox.id]).status == 0)
        #expect(!root.containerFolderExists(sandbox.id))
        #expect(!FileManager.default.fileExists(atPath: bundle.rootfs + "/marker"))
    }

    @Test("SIGKILL ends the pause too; delete --force of a running sandbox leaves no process",
          .enabled(if: OCIHost.isRoot, "needs root (namespaces)"))
    func sandboxKill() throws {
        let root = try RuntimeRoot(), bundle = try OCIBundle(guests: [])
        try bundle.write(OCIBundle.config(args: ["/pause"], annotations: [sandboxAnnotations[0]: "sandbox"]))
        for (signal, force) in [("KILL", false), ("", true)] {
            let sandbox = try CreatedContainer(root: root, bundle: bundle)
            #expect(sandbox.createStatus == 0, "\(sandbox.stderr)")
            #expect(try root.runc(["start", sandbox.id]).status == 0)
            let pid = try #require(sandbox.pid)
            try root.waitForStatus(sandbox.id, "running")
            if force {
                #expect(try root.runc(["delete", "--force", sandbox.id]).status == 0)
            } else {
                #expect(try root.runc(["kill", sandbox.id, signal]).status == 0)
                try root.waitForStatus(sandbox.id, "stopped")
                #expect(try root.runc(["delete", sandbox.id]).status == 0)
            }
            #expect(ProcessStatus(pid: pid)?.isZombieOrGone ?? true, "process \(pid) should be gone")
        }
    }

    @Test("a container that is not the sandbox and has no .nabla image is still refused")
    func onlyTheSandbox() throws {
        let root = try RuntimeRoot(), bundle = try OCIBundle(guests: [])
        try bundle.write(OCIBundle.config(args: ["/pause"], annotations: ["io.kubernetes.cri.container-type": "container"]))
        let outcome = try root.runc(["create", "--bundle", bundle.path, "no-test-" + OCIHost.tag()])
        #expect(outcome.status == 65 && outcome.stderr.contains("is not a nabla image"), "\(outcome)")
    }
}

@Suite("OCI runtime: block devices as disks")
struct OCIDeviceTests {
    /// kvlog `arguments` in a container of `bundle` with disk `disk` at `path`.
    func kvlog(_ root: RuntimeRoot, _ bundle: OCIBundle, _ arguments: [String], path: String, readOnly: Bool = false,
               linux: [String: Any] = [:], mounts: [[String: Any]] = []) throws -> Outcome {
        var annotations = ["org.nabla.disk.disk": path]
        if readOnly { annotations["org.nabla.disk-readonly.disk"] = "true" }
        try bundle.write(OCIBundle.config(args: ["/kvlog.nabla"] + arguments, linux: linux, annotations: annotations, top: ["mounts": mounts]))
        return try root.runc(["run", "--bundle", bundle.path, "no-test-" + OCIHost.tag()])
    }

    @Test("a block device node in the image is never a disk (status 77, the disk and why); the host device is unchanged",
          .enabled(if: LoopDevice.available, "needs root and a free loop device (losetup -f)"))
    func deviceInImage() throws {
        let loop = try LoopDevice(), root = try RuntimeRoot(), bundle = try OCIBundle(guests: ["kvlog"])
        let before = loop.content
        let node = try run(OCIHost.tool("mknod") ?? "mknod", [bundle.rootfs + "/disk.img", "b", String(loop.major), String(loop.minor)])
        #expect(node.status == 0, "\(node)")
        for readOnly in [false, true] {
            let outcome = try kvlog(root, bundle, readOnly ? ["get", "colour"] : ["put", "colour", "blue"], path: "/disk.img", readOnly: readOnly)
            #expect(outcome.status == 77, "\(outcome)")
            #expect(outcome.stderr.split(separator: "\n").count == 1 && outcome.stderr.hasPrefix("nabla-runc: disk disk: /disk.img"), "\(outcome.stderr)")
            #expect(outcome.stderr.contains("is a block device") && outcome.stderr.contains("must be a regular file"), "\(outcome.stderr)")
        }
        // Even with the device rules allowing it: a node from the image is not a grant.
        let allowed = try kvlog(root, bundle, ["put", "colour", "blue"], path: "/disk.img",
                                linux: ["resources": ["devices": [["allow": true, "access": "rwm"]]]])
        #expect(allowed.status == 77, "\(allowed)")
        #expect(loop.content == before, "the host's device was written")
        #expect(try FileManager.default.contentsOfDirectory(atPath: root.path).isEmpty)
    }

    @Test("a block device the engine granted (linux.devices, or a bind mount, with linux.resources.devices allowing it) is a disk; read-only grants give read-only disks",
          .enabled(if: LoopDevice.available, "needs root and a free loop device (losetup -f)"))
    func grantedDevice() throws {
        let loop = try LoopDevice(), root = try RuntimeRoot(), bundle = try OCIBundle(guests: ["kvlog"])
        // podman run --device LOOP:/dev/vdb
        let put = try kvlog(root, bundle, ["put", "colour", "blue"], path: "/dev/vdb", linux: loop.grant(at: "/dev/vdb", access: "rwm"))
        #expect(put.status == 0 && put.stdout.contains("ok 1"), "\(put)")
        #expect(loop.content != Data(count: 1 << 20), "the guest wrote the granted device")
        // podman run --device LOOP:/dev/vdb:r: reading only.
        let readGrant = loop.grant(at: "/dev/vdb", access: "r")
        let write = try kvlog(root, bundle, ["put", "colour", "red"], path: "/dev/vdb", linux: readGrant)
        #expect(write.status == 77 && write.stderr.contains("does not allow block device \(loop.major):\(loop.minor) 'rw'")
                && write.stderr.contains("org.nabla.disk-readonly.disk=true"), "\(write)")
        let get = try kvlog(root, bundle, ["get", "colour"], path: "/dev/vdb", readOnly: true, linux: readGrant)
        #expect(get.status == 0 && get.stdout == "blue\n", "\(get)")

        // A bind mount of the device (podman run -v LOOP:/dev/vdb): allowed only by the rules.
        let bind: [[String: Any]] = [["destination": "/dev/vdb", "type": "bind", "source": loop.device, "options": ["rbind", "rw"]]]
        let denied = try kvlog(root, bundle, ["get", "colour"], path: "/dev/vdb",
                               linux: ["resources": ["devices": [["allow": false, "access": "rwm"]]]], mounts: bind)
        #expect(denied.status == 77 && denied.stderr.contains("bind mount of \(loop.device)"), "\(denied)")
        let noRules = try kvlog(root, bundle, ["get", "colour"], path: "/dev/vdb", mounts: bind)
        #expect(noRules.status == 77, "no rules allow nothing: \(noRules)")
        var rules = loop.grant(at: "/dev/vdb", access: "rwm")
        rules["devices"] = nil
        let viaMount = try kvlog(root, bundle, ["get", "colour"], path: "/dev/vdb", linux: rules, mounts: bind)
        #expect(viaMount.status == 0 && viaMount.stdout == "blue\n", "\(viaMount)")
        // A later deny wins over an earlier allow, as in the device cgroup.
        let laterDeny: [String: Any] = ["resources": ["devices": [["allow": true, "access": "rwm"],
                                                                  ["allow": false, "type": "b", "major": loop.major, "access": "w"]]]]
        let denyWrite = try kvlog(root, bundle, ["put", "colour", "green"], path: "/dev/vdb", linux: laterDeny, mounts: bind)
        #expect(denyWrite.status == 77, "\(denyWrite)")
        #expect(try kvlog(root, bundle, ["get", "colour"], path: "/dev/vdb", readOnly: true, linux: laterDeny, mounts: bind).stdout == "blue\n")
    }
}

@Suite("OCI runtime: state directory and pid file")
struct OCIStateFileTests {
    @Test("a symlink planted as ROOT/ID is never followed: delete, state, kill, start refuse it and the target is untouched")
    func plantedContainerFolder() throws {
        let root = try RuntimeRoot()
        try withTemporaryDirectory { target in
            try "precious\n".write(toFile: target + "/precious", atomically: true, encoding: .utf8)
            try "{}".write(toFile: target + "/state.json", atomically: true, encoding: .utf8)
            let id = "no-test-" + OCIHost.tag()
            try FileManager.default.createSymbolicLink(atPath: root.path + "/" + id, withDestinationPath: target)
            for command in [["delete", id], ["delete", "--force", id], ["state", id], ["kill", id, "KILL"], ["start", id]] {
                let outcome = try root.runc(command)
                #expect(outcome.status == 77 && outcome.stderr.contains("is a symlink or a file"), "\(command): \(outcome)")
                #expect(outcome.stderr.split(separator: "\n").count == 1, "one line: \(outcome.stderr)")
            }
            #expect(try FileManager.default.contentsOfDirectory(atPath: target).sorted() == ["precious", "state.json"])
            #expect(try String(contentsOfFile: target + "/precious", encoding: .utf8) == "precious\n")
            try FileManager.default.removeItem(atPath: root.path + "/" + id)
        }
    }

    @Test("a --root that others can write is refused (status 77) before anything is read or made in it")
    func writableRoot() throws {
        try withTemporaryDirectory { directory in
            let shared = directory + "/shared"
            try FileManager.default.createDirectory(atPath: shared, withIntermediateDirectories: false)
            chmod(shared, 0o777)
            let outcome = try run(OCIHost.runtime, ["--root", shared, "state", "no-test-x"])
            #expect(outcome.status == 77 && outcome.stderr.contains("no one else can write"), "\(outcome)")
            try FileManager.default.createSymbolicLink(atPath: directory + "/link", withDestinationPath: shared)
            let link = try run(OCIHost.runtime, ["--root", directory + "/link", "delete", "--force", "no-test-x"])
            #expect(link.status == 77 && link.stderr.contains("is a symlink"), "\(link)")
        }
    }

    @Test("the pid file is written through a fresh temporary name: a symlink planted at the name the old code used is not followed",
          .enabled(if: OCIHost.isRoot && OCIHost.tool("unshare") != nil, "needs root and unshare (a pid namespace makes create's pid 1)"))
    func plantedPidFile() throws {
        let root = try RuntimeRoot(), bundle = try OCIBundle(guests: ["hello"])
        try bundle.write(OCIBundle.config(args: ["/hello.nabla"], namespaces: [["type": "mount"]]))
        try withTemporaryDirectory { directory in
            let precious = directory + "/precious", pidFile = directory + "/pid"
            try "precious\n".write(toFile: precious, atomically: true, encoding: .utf8)
            // In a new pid namespace create is pid 1, so the temporary name
            // a predictable scheme would use is PIDFILE.tmp-1.
            try FileManager.default.createSymbolicLink(atPath: pidFile + ".tmp-1", withDestinationPath: precious)
            try FileManager.default.createSymbolicLink(atPath: pidFile, withDestinationPath: precious)
            let id = "no-test-" + OCIHost.tag()
            let outcome = try run(OCIHost.tool("unshare") ?? "unshare",
                                  ["--pid", "--fork", "--mount-proc", OCIHost.runtime, "--root", root.path, "create", "--bundle", bundle.path, "--pid-file", pidFile, id])
            #expect(outcome.status == 0, "\(outcome)")
            #expect(try String(contentsOfFile: precious, encoding: .utf8) == "precious\n", "a planted symlink was written through")
            let attributes = try FileManager.default.attributesOfItem(atPath: pidFile)
            #expect(attributes[.type] as? FileAttributeType == .typeRegular, "the pid file replaced the symlink at its name")
            #expect(Int32(try String(contentsOfFile: pidFile, encoding: .utf8)) != nil)
            #expect(try root.runc(["delete", "--force", id]).status == 0)
        }
    }
}

@Suite("OCI runtime: mounts and runc's answers")
struct OCIMountAndAnswerTests {
    @Test("each of the user's mounts gets one line on the container's stderr saying what became of it; the engine's own mounts none",
          .enabled(if: OCIHost.isRoot, "creating containers needs root"))
    func mountNotices() throws {
        let root = try RuntimeRoot(), bundle = try OCIBundle(guests: ["kvlog"])
        try withTemporaryDirectory { volume in
            #expect(FileManager.default.createFile(atPath: volume + "/kv.img", contents: Data(count: 1 << 20)))
            let engine: [[String: Any]] = ["/proc", "/dev", "/sys", "/dev/pts", "/dev/shm", "/dev/mqueue", "/sys/fs/cgroup"].map {
                ["destination": $0, "type": "tmpfs", "source": "tmpfs"]
            } + ["/etc/hosts", "/etc/resolv.conf", "/etc/hostname", "/run/.containerenv"].map {
                ["destination": $0, "type": "bind", "source": volume + "/kv.img", "options": ["rbind"]]
            }
            let user: [[String: Any]] = [
                ["destination": "/data", "type": "bind", "source": volume, "options": ["rbind", "rw"]],
                ["destination": "/scratch", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid"]],
                ["destination": "/disks", "type": "bind", "source": volume, "options": ["rbind", "ro"]],
            ]
            try bundle.write(OCIBundle.config(args: ["/kvlog.nabla", "get", "colour"], annotations: ["org.nabla.disk.disk": "/disks/kv.img"],
                                              top: ["mounts": engine + user]))
            let container = try CreatedContainer(root: root, bundle: bundle)
            #expect(container.createStatus == 0, "\(container.stderr)")
            #expect(container.stderr.isEmpty, "nothing before start: \(container.stderr)")
            #expect(try root.runc(["start", container.id]).status == 0)
            try root.waitForStatus(container.id, "stopped")
            let lines = container.stderr.split(separator: "\n").filter { $0.hasPrefix("nabla-runc: mount ") }
            #expect(lines.count == 3, "\(container.stderr)")
            #expect(lines.contains { $0.hasPrefix("nabla-runc: mount /data (bind mount of \(volume)) is not mounted and is ignored") })
            #expect(lines.contains { $0.hasPrefix("nabla-runc: mount /scratch (tmpfs) is not mounted and is ignored") })
            #expect(lines.contains { $0.hasPrefix("nabla-runc: mount /disks (bind mount of \(volume)) is not mounted") && $0.contains("disk 'disk' is read through it") })
            #expect(try root.runc(["delete", container.id]).status == 0)
        }
    }

    @Test("kill of a container that has exited answers runc's 'container not running' (status 1; --all: no error); unknown ids 'container does not exist'",
          .enabled(if: OCIHost.isRoot, "creating containers needs root"))
    func runcAnswers() throws {
        let root = try RuntimeRoot(), bundle = try OCIBundle(guests: ["hello"])
        try bundle.write(OCIBundle.config(args: ["/hello.nabla"]))
        let container = try CreatedContainer(root: root, bundle: bundle)
        #expect(try root.runc(["start", container.id]).status == 0)
        try root.waitForStatus(container.id, "stopped")
        let kill = try root.runc(["kill", container.id, "TERM"])
        #expect(kill.status == 1 && kill.stderr.contains("container not running"), "\(kill)")
        #expect(try root.runc(["kill", "--all", container.id, "KILL"]).status == 0)
        #expect(try root.runc(["delete", container.id]).status == 0)
        for command in [["delete"], ["kill"], ["state"], ["start"]] {
            let unknown = try root.runc(command + [container.id])
            #expect(unknown.status == 1 && unknown.stderr.contains("container does not exist"), "\(command): \(unknown)")
        }
    }
}
