// nabla-runc driven directly, as an engine would: bundles built in a
// temporary directory, create/start/state/kill/delete against a private
// --root, and the state JSON checked against the OCI runtime spec.
//
// Creating containers needs root (namespaces, cgroups); without it these
// tests are skipped and say so. The bad-input tests fail before anything
// privileged and run as any user.

import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite("OCI runtime: lifecycle")
struct OCIRuntimeTests {
    @Test("create, state, start, state, delete: the OCI lifecycle and its state JSON",
          .enabled(if: OCIHost.isRoot, "creating containers needs root (namespaces, cgroups)"))
    func lifecycle() throws {
        let root = try RuntimeRoot(), bundle = try OCIBundle(guests: ["hello"])
        try bundle.write(OCIBundle.config(args: ["/hello.nabla"], annotations: ["com.example.owner": "nabla tests"]))
        let container = try CreatedContainer(root: root, bundle: bundle)
        #expect(container.createStatus == 0, "\(container.stderr)")

        let created = try root.state(container.id)
        #expect(created["ociVersion"] as? String == "1.0.2")
        #expect(created["id"] as? String == container.id)
        #expect(created["status"] as? String == "created")
        #expect(created["bundle"] as? String == bundle.path)
        #expect((created["annotations"] as? [String: String]) == ["com.example.owner": "nabla tests"])
        let pid = try #require(created["pid"] as? Int)
        #expect(pid > 0 && Int32(pid) == container.pid, "pid file \(String(describing: container.pid))")
        #expect(kill(pid_t(pid), 0) == 0, "the created container's process \(pid) should exist")
        let createdAt = try #require(created["created"] as? String)
        #expect(createdAt.wholeMatch(of: /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z/) != nil, "\(createdAt)")
        #expect(container.stdout.isEmpty, "the guest must not run before start: \(container.stdout)")

        let start = try root.runc(["start", container.id])
        #expect(start.status == 0, "\(start)")
        let stopped = try root.waitForStatus(container.id, "stopped")
        #expect(stopped["pid"] as? Int == 0, "a stopped container reports pid 0: \(stopped)")
        #expect(container.stdout == "Hello from a nabla guest!\n", "\(container.stdout)\(container.stderr)")

        let delete = try root.runc(["delete", container.id])
        #expect(delete.status == 0, "\(delete)")
        #expect(!root.containerFolderExists(container.id))
        let gone = try root.runc(["state", container.id])
        #expect(gone.status == 1 && gone.stderr.contains("does not exist"), "\(gone)")
    }

    @Test("spec writes a template config.json that run accepts; it never overwrites one",
          .enabled(if: OCIHost.isRoot, "running containers needs root"))
    func specTemplate() throws {
        let root = try RuntimeRoot(), bundle = try OCIBundle(guests: ["hello"])
        try FileManager.default.moveItem(atPath: bundle.rootfs + "/hello.nabla", toPath: bundle.rootfs + "/app.nabla")
        #expect(try run(OCIHost.runtime, ["spec", "--bundle", bundle.path]).status == 0)
        let outcome = try root.runc(["run", "--bundle", bundle.path, "no-test-" + OCIHost.tag()])
        #expect(outcome.status == 0 && outcome.stdout == "Hello from a nabla guest!\n", "\(outcome)")
        let again = try run(OCIHost.runtime, ["spec", "--bundle", bundle.path])
        #expect(again.status == 1 && again.stderr.contains("exists already"), "\(again)")
    }

    @Test("run exits with the guest's status", .enabled(if: OCIHost.isRoot, "creating containers needs root"),
          arguments: [0, 7, 42, 255])
    func runStatus(status: Int) throws {
        let root = try RuntimeRoot(), bundle = try OCIBundle(guests: ["exit"])
        try bundle.write(OCIBundle.config(args: ["/exit.nabla", String(status)]))
        let outcome = try root.runc(["run", "--bundle", bundle.path, "no-test-" + OCIHost.tag()])
        #expect(outcome.status == Int32(status), "\(outcome)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: root.path).isEmpty, "run deletes the container")
    }

    @Test("kill takes signal names and numbers; a stopped container refuses kill",
          .enabled(if: OCIHost.isRoot, "creating containers needs root"),
          arguments: [("TERM", SIGTERM), ("SIGKILL", SIGKILL), ("10", SIGUSR1), ("int", SIGINT)])
    func killSignals(signal: String, number: Int32) throws {
        let root = try RuntimeRoot(), bundle = try OCIBundle(guests: ["attack-spin"])
        try bundle.write(OCIBundle.config(args: ["/attack-spin.nabla"]))
        let container = try CreatedContainer(root: root, bundle: bundle)
        #expect(container.createStatus == 0, "\(container.stderr)")
        #expect(try root.runc(["start", container.id]).status == 0)
        try root.waitForStatus(container.id, "running")
        let pid = try #require(container.pid)
        // The tender is the container's process: what kill reaches is the guest's runner.
        let commandLine = try String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8)
        #expect(commandLine.hasPrefix("nabla-run\0"), "\(commandLine)")
        let ps = try root.runc(["ps", "--format", "json", container.id])
        #expect(ps.status == 0 && ps.stdout == "[\(pid)]\n", "ps lists the tender alone: \(ps)")
        let kill = try root.runc(["kill", container.id, signal])
        #expect(kill.status == 0, "\(kill)")
        try root.waitForStatus(container.id, "stopped")
        let again = try root.runc(["kill", container.id, "KILL"])
        #expect(again.status == 1 && again.stderr.contains("container not running"), "\(again)")
        #expect(try root.runc(["delete", container.id]).status == 0)
    }

    @Test("delete of a running container needs --force; --force kills it and removes its cgroup and folder",
          .enabled(if: OCIHost.isRoot, "creating containers needs root"))
    func deleteRunning() throws {
        let root = try RuntimeRoot(), bundle = try OCIBundle(guests: ["attack-spin"])
        let id = "no-test-" + OCIHost.tag()
        let cgroupsPath = "/" + id   // one level: the test owns the whole path
        try bundle.write(OCIBundle.config(args: ["/attack-spin.nabla"], cgroupsPath: cgroupsPath))
        let container = try CreatedContainer(root: root, bundle: bundle, id: id)
        #expect(container.createStatus == 0, "\(container.stderr)")
        #expect(try root.runc(["start", id]).status == 0)
        try root.waitForStatus(id, "running")
        let pid = try #require(container.pid)
        let cgroups = try String(contentsOfFile: "/proc/\(pid)/cgroup", encoding: .utf8)
        #expect(cgroups.contains(cgroupsPath), "\(cgroups)")

        let refused = try root.runc(["delete", id])
        #expect(refused.status == 1 && refused.stderr.contains("--force"), "\(refused)")
        #expect(try root.state(id)["status"] as? String == "running")

        let forced = try root.runc(["delete", "--force", id])
        #expect(forced.status == 0, "\(forced)")
        #expect(!root.containerFolderExists(id))
        #expect(ProcessStatus(pid: pid)?.isZombieOrGone ?? true, "process \(pid) should be dead")
        for directory in cgroupDirectories(cgroupsPath) {
            #expect(!FileManager.default.fileExists(atPath: directory), "\(directory) should be removed")
        }
    }

    @Test("start works once: a second start, or start of a stopped container, is refused",
          .enabled(if: OCIHost.isRoot, "creating containers needs root"))
    func startTwice() throws {
        let root = try RuntimeRoot(), bundle = try OCIBundle(guests: ["attack-spin"])
        try bundle.write(OCIBundle.config(args: ["/attack-spin.nabla"]))
        let container = try CreatedContainer(root: root, bundle: bundle)
        #expect(try root.runc(["start", container.id]).status == 0)
        let second = try root.runc(["start", container.id])
        #expect(second.status == 1 && second.stderr.contains("running"), "\(second)")
        #expect(second.stderr.split(separator: "\n").count == 1, "one line: \(second.stderr)")
        #expect(try root.runc(["kill", container.id, "KILL"]).status == 0)
        try root.waitForStatus(container.id, "stopped")
        let third = try root.runc(["start", container.id])
        #expect(third.status == 1 && third.stderr.contains("stopped"), "\(third)")
        #expect(try root.runc(["delete", container.id]).status == 0)
    }

    @Test("process.env is the guest's environment; stdin, stdout and stderr are the container's",
          .enabled(if: OCIHost.isRoot, "creating containers needs root"))
    func environmentAndStreams() throws {
        let root = try RuntimeRoot(), bundle = try OCIBundle(guests: ["process", "cat"])
        try bundle.write(OCIBundle.config(args: ["/process.nabla", "env"], process: ["env": ["PATH=/", "COLOUR=blue", "EMPTY="]]))
        let env = try root.runc(["run", "--bundle", bundle.path, "no-test-" + OCIHost.tag()])
        #expect(env.status == 0 && env.stdout == "PATH=/\nCOLOUR=blue\nEMPTY=\n", "\(env)")
        try bundle.write(OCIBundle.config(args: ["/process.nabla", "streams"]))
        let streams = try root.runc(["run", "--bundle", bundle.path, "no-test-" + OCIHost.tag()])
        #expect(streams.status == 0 && streams.stdout == "to stdout\n" && streams.stderr == "to stderr\n", "\(streams)")
        try bundle.write(OCIBundle.config(args: ["/cat.nabla"]))
        let piped = try run("/bin/sh", ["-c", "echo hello | \"$0\" --root \"$1\" run --bundle \"$2\" \"$3\"",
                                        OCIHost.runtime, root.path, bundle.path, "no-test-" + OCIHost.tag()])
        #expect(piped.status == 0 && piped.stdout == "hello\n", "\(piped)")
    }

    @Test("disks from annotations: a file in the rootfs, read-write or read-only by annotation; a symlink cannot leave the rootfs",
          .enabled(if: OCIHost.isRoot, "creating containers needs root"))
    func disks() throws {
        let root = try RuntimeRoot(), bundle = try OCIBundle(guests: ["kvlog"])
        #expect(FileManager.default.createFile(atPath: bundle.rootfs + "/kv.img", contents: Data(count: 1 << 20)))
        func kvlog(_ arguments: [String], annotations: [String: String]) throws -> Outcome {
            try bundle.write(OCIBundle.config(args: ["/kvlog.nabla"] + arguments, annotations: annotations))
            return try root.runc(["run", "--bundle", bundle.path, "no-test-" + OCIHost.tag()])
        }
        let disk = ["org.nabla.disk.disk": "/kv.img"]
        let put = try kvlog(["put", "colour", "blue"], annotations: disk)
        #expect(put.status == 0 && put.stdout.contains("ok 1"), "\(put)")
        let readOnly = disk.merging(["org.nabla.disk-readonly.disk": "true"]) { $1 }
        let get = try kvlog(["get", "colour"], annotations: readOnly)
        #expect(get.status == 0 && get.stdout == "blue\n", "\(get)")
        let refused = try kvlog(["put", "colour", "red"], annotations: readOnly)
        #expect(refused.status != 0, "a put on a read-only disk fails: \(refused)")
        #expect(try kvlog(["get", "colour"], annotations: disk).stdout == "blue\n")

        // /escape.img -> /etc/passwd names the rootfs's own /etc/passwd, which does not exist.
        try FileManager.default.createSymbolicLink(atPath: bundle.rootfs + "/escape.img", withDestinationPath: "/etc/passwd")
        let escape = try kvlog(["get", "colour"], annotations: ["org.nabla.disk.disk": "/escape.img"])
        #expect(escape.status == 66 && escape.stderr.contains("cannot open disk disk /escape.img"), "\(escape)")
    }

    @Test("rlimits, user, groups, no_new_privs, capabilities, memory and pids limits reach the tender",
          .enabled(if: OCIHost.isRoot, "setting another user and cgroup limits needs root"))
    func processSettings() throws {
        let root = try RuntimeRoot(), bundle = try OCIBundle(guests: ["attack-spin"])
        let id = "no-test-" + OCIHost.tag()
        let cgroupsPath = "/" + id   // one level: the test owns the whole path
        try bundle.write(OCIBundle.config(
            args: ["/attack-spin.nabla"], cgroupsPath: cgroupsPath,
            process: ["user": ["uid": 1000, "gid": 1000, "additionalGids": [1001]],
                      "rlimits": [["type": "RLIMIT_NOFILE", "soft": 256, "hard": 512]],
                      "noNewPrivileges": true,
                      "capabilities": ["bounding": ["CAP_NET_BIND_SERVICE"], "effective": [], "permitted": []]],
            linux: ["resources": ["memory": ["limit": 32 << 20], "pids": ["limit": 16]]]))
        let container = try CreatedContainer(root: root, bundle: bundle, id: id)
        #expect(container.createStatus == 0, "\(container.stderr)")
        #expect(try root.runc(["start", id]).status == 0)
        try root.waitForStatus(id, "running")
        usleep(100_000)   // the exec from init to the tender
        let pid = try #require(container.pid)
        let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
        #expect(status.contains("Uid:\t1000\t1000\t1000\t1000"), "\(status)")
        #expect(status.contains("Gid:\t1000\t1000\t1000\t1000"), "\(status)")
        #expect(status.contains("Groups:\t1001"), "\(status)")
        #expect(status.contains("NoNewPrivs:\t1"), "\(status)")
        #expect(status.contains("CapBnd:\t0000000000000400"), "\(status)")
        #expect(status.contains("CapEff:\t0000000000000000"), "\(status)")
        let limits = try String(contentsOfFile: "/proc/\(pid)/limits", encoding: .utf8)
        #expect(limits.contains(/Max open files\s+256\s+512/), "\(limits)")
        let commandLine = try String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8).split(separator: "\0")
        #expect(commandLine.starts(with: ["nabla-run", "--mem", "24M"]), "32 MiB less the tender's 8: \(commandLine)")
        #expect(try String(contentsOfFile: "/sys/fs/cgroup/memory\(cgroupsPath)/memory.limit_in_bytes", encoding: .utf8) == "33554432\n")
        #expect(try String(contentsOfFile: "/sys/fs/cgroup/pids\(cgroupsPath)/pids.max", encoding: .utf8) == "16\n")
        #expect(try root.runc(["delete", "--force", id]).status == 0)
    }
}

/// The state letter of a process from /proc, or nil if it is gone.
struct ProcessStatus {
    let state: Character
    init?(pid: Int32) {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = text.lastIndex(of: ")"), let letter = text[text.index(close, offsetBy: 2)...].first else { return nil }
        state = letter
    }
    var isZombieOrGone: Bool { state == "Z" || state == "X" }
}

@Suite("OCI runtime: bad input")
struct OCIBadInputTests {
    /// Runs create on a bundle with `config`; checks one line, the status,
    /// and that nothing is left in the root.
    func refuseCreate(_ config: String, status: Int32, mentions: String, guests: [String] = ["hello"],
                      prepare: (OCIBundle) throws -> Void = { _ in }) throws {
        let root = try RuntimeRoot(), bundle = try OCIBundle(guests: guests)
        try bundle.writeRaw(config)
        try prepare(bundle)
        let outcome = try root.runc(["create", "--bundle", bundle.path, "no-test-" + OCIHost.tag()])
        #expect(outcome.status == status, "\(outcome)")
        let lines = outcome.stderr.split(separator: "\n")
        #expect(lines.count == 1 && outcome.stderr.hasPrefix("nabla-runc: "), "one line: \(outcome.stderr)")
        #expect(outcome.stderr.contains(mentions), "\(outcome.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: root.path).isEmpty, "nothing left behind in \(root.path)")
    }

    static func config(args: String, extra: String = "") -> String {
        #"{"ociVersion":"1.0.2","process":{"args":\#(args),"cwd":"/"},"root":{"path":"rootfs"}\#(extra)}"#
    }

    @Test("a bundle whose args name no .nabla image: status 65")
    func notNabla() throws {
        try refuseCreate(Self.config(args: #"["/bin/sh","-c","echo"]"#), status: 65, mentions: "is not a nabla image")
        try refuseCreate(Self.config(args: "[]"), status: 65, mentions: "process.args is empty")
    }

    @Test("an image missing from the rootfs, or reached only by a symlink out of it: status 66")
    func missingImage() throws {
        try refuseCreate(Self.config(args: #"["/missing.nabla"]"#), status: 66, mentions: "no such file or directory")
        // An absolute symlink is resolved inside the rootfs, not on the host.
        try refuseCreate(Self.config(args: #"["/escape.nabla"]"#), status: 66, mentions: "escape.nabla") { bundle in
            try FileManager.default.createSymbolicLink(atPath: bundle.rootfs + "/escape.nabla", withDestinationPath: try Paths.guest("hello"))
        }
    }

    @Test("config.json that is not JSON, not an object, or has wrong types: status 65 with the place")
    func badConfig() throws {
        try refuseCreate(#"{"ociVersion": "1.0.2", "process": {"args": ["/hello.nabla"]"#, status: 65, mentions: "not valid JSON")
        try refuseCreate(#"{"ociVersion": 1}"#, status: 65, mentions: "ociVersion must be a string")
        try refuseCreate("[1,2]", status: 65, mentions: "must be an object")
        try refuseCreate(Self.config(args: #"["/hello.nabla"]"#, extra: #","linux":{"resources":{"memory":{"limit":1048576}}}"#),
                         status: 65, mentions: "below the minimum")
        try refuseCreate(Self.config(args: #"["/hello.nabla"]"#, extra: #","annotations":{"org.nabla.disk.d":"relative.img"}"#),
                         status: 65, mentions: "absolute path")
        try refuseCreate(Self.config(args: #"["/hello.nabla"]"#, extra: #","annotations":{"org.nabla.colour":"blue"}"#),
                         status: 65, mentions: "unknown annotation")
        try refuseCreate(#"{"ociVersion":"1.0.2","process":{"args":["/hello.nabla"],"env":["PATH=/","NOEQUALS"],"cwd":"/"},"root":{"path":"rootfs"}}"#,
                         status: 65, mentions: "process.env[1] 'NOEQUALS' is not KEY=VALUE")
    }

    @Test("what a unikernel cannot honour is refused: user namespaces, hooks (status 69)")
    func refusedFeatures() throws {
        try refuseCreate(Self.config(args: #"["/hello.nabla"]"#, extra: #","linux":{"namespaces":[{"type":"user"}]}"#),
                         status: 69, mentions: "user namespaces")
        try refuseCreate(Self.config(args: #"["/hello.nabla"]"#, extra: #","hooks":{"prestart":[{"path":"/bin/true"}]}"#),
                         status: 69, mentions: "hooks")
    }

    @Test("mangled config.json (truncated, bytes flipped, nested 100000 deep): one line, status 65, never a crash")
    func mangledConfigs() throws {
        let root = try RuntimeRoot(), bundle = try OCIBundle(guests: ["hello"])
        let valid = Array(Self.config(args: #"["/hello.nabla","a\u00e9\ud83d\ude00"]"#, extra: #","annotations":{"k":"v"},"linux":{"resources":{"memory":{"limit":33554432}}}"#).utf8)
        var generator = SystemRandomNumberGenerator()
        var inputs: [[UInt8]] = [Array(repeating: UInt8(ascii: "["), count: 100_000), Array("\u{FEFF}{}".utf8), [0xff, 0xfe]]
        for _ in 0..<60 {
            var bytes = valid
            switch Int.random(in: 0..<3, using: &generator) {
            case 0: bytes = Array(bytes.prefix(Int.random(in: 0..<bytes.count, using: &generator)))
            case 1: bytes[Int.random(in: 0..<bytes.count, using: &generator)] = UInt8.random(in: 0...255, using: &generator)
            default: bytes.insert(contentsOf: Array(#"{"x":[1e999,-0.5e-3,"\u0000"]}"#.utf8), at: Int.random(in: 0..<bytes.count, using: &generator))
            }
            inputs.append(bytes)
        }
        for input in inputs {
            try Data(input).write(to: URL(fileURLWithPath: bundle.path + "/config.json"))
            let id = "no-test-" + OCIHost.tag()
            let outcome = try root.runc(["create", "--bundle", bundle.path, id])
            _ = try? root.runc(["delete", "--force", id])   // a mutation that stayed valid
            #expect(outcome.status < 128, "crashed on \(String(decoding: input.prefix(200), as: UTF8.self)): \(outcome)")
            if outcome.status != 0 {
                #expect(outcome.stderr.hasPrefix("nabla-runc: ") && outcome.stderr.split(separator: "\n").count == 1,
                        "\(String(decoding: input.prefix(200), as: UTF8.self)): \(outcome.stderr)")
            }
        }
        try Data(repeating: UInt8(ascii: "["), count: 100_000).write(to: URL(fileURLWithPath: bundle.path + "/config.json"))
        let deep = try root.runc(["create", "--bundle", bundle.path, "no-test-" + OCIHost.tag()])
        #expect(deep.status == 65 && deep.stderr.contains("nesting deeper than 64"), "\(deep)")
    }

    @Test("a bundle without config.json: status 66")
    func noConfig() throws {
        let root = try RuntimeRoot(), bundle = try OCIBundle(guests: [])
        let outcome = try root.runc(["create", "--bundle", bundle.path, "no-test-x"])
        #expect(outcome.status == 66 && outcome.stderr.contains("config.json does not exist"), "\(outcome)")
    }

    @Test("unknown container ids: state, start, kill and delete say so with status 1; delete --force is quiet")
    func unknownID() throws {
        let root = try RuntimeRoot()
        for command in [["state"], ["start"], ["kill"], ["delete"]] {
            let outcome = try root.runc(command + ["no-test-none"])
            #expect(outcome.status == 1 && outcome.stderr.contains("does not exist"), "\(command): \(outcome)")
        }
        #expect(try root.runc(["delete", "--force", "no-test-none"]).status == 0)
    }

    @Test("an id in use: a second create says 'already exists' with status 1, as runc, and leaves the first alone",
          .enabled(if: OCIHost.isRoot, "creating containers needs root"))
    func idInUse() throws {
        let root = try RuntimeRoot(), bundle = try OCIBundle(guests: ["hello"])
        try bundle.write(OCIBundle.config(args: ["/hello.nabla"]))
        let container = try CreatedContainer(root: root, bundle: bundle)
        #expect(container.createStatus == 0, "\(container.stderr)")
        let again = try root.runc(["create", "--bundle", bundle.path, container.id])
        #expect(again.status == 1 && again.stderr.contains("already exists"), "\(again)")
        #expect(try root.state(container.id)["status"] as? String == "created")
    }

    @Test("bad command lines: status 64; runc commands a unikernel has no use for: status 69")
    func commandLine() throws {
        let root = try RuntimeRoot()
        for arguments in [[], ["frobnicate"], ["state"], ["state", "../etc"], ["kill", "x", "SIGNOPE"], ["--log-format", "xml", "state", "x"],
                          ["create", "a", "b"], ["delete", "--later", "x"]] {
            let outcome = try root.runc(arguments)
            #expect(outcome.status == 64, "\(arguments): \(outcome)")
            #expect(outcome.stderr.hasPrefix("nabla-runc: "), "\(arguments): \(outcome)")
        }
        for command in ["exec", "pause", "resume", "update", "checkpoint", "restore", "events", "list"] {
            let outcome = try root.runc([command, "x"])
            #expect(outcome.status == 69 && outcome.stderr.contains("not supported"), "\(command): \(outcome)")
        }
        let systemd = try root.runc(["--systemd-cgroup", "create", "--bundle", "/nonexistent", "x"])
        #expect(systemd.status == 69 && systemd.stderr.contains("cgroupfs"), "\(systemd)")
    }

    @Test("--log-format json writes errors as runc does: one JSON object a line with level, msg and time")
    func jsonLog() throws {
        let root = try RuntimeRoot()
        let log = root.path + ".log"
        defer { try? FileManager.default.removeItem(atPath: log) }
        _ = try root.runc(["--log", log, "--log-format", "json", "state", "no-test-none"])
        _ = try root.runc(["--log=\(log)", "--log-format=json", "start", "no-test-none"])
        let lines = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 2)
        for line in lines {
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: String]
            #expect(object?["level"] == "error" && object?["msg"]?.contains("does not exist") == true && object?["time"] != nil, "\(line)")
        }
    }

    @Test("--version and features describe the runtime")
    func versionAndFeatures() throws {
        let version = try run(OCIHost.runtime, ["--version"])
        #expect(version.status == 0 && version.stdout.hasPrefix("nabla-runc version ") && version.stdout.contains("spec: 1.0.2"))
        let features = try run(OCIHost.runtime, ["features"])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(features.stdout.utf8)) as? [String: Any])
        #expect(object["ociVersionMax"] as? String == "1.0.2")
        let linux = try #require(object["linux"] as? [String: Any])
        #expect((linux["namespaces"] as? [String])?.contains("network") == true)
        #expect((linux["cgroup"] as? [String: Bool])?["systemd"] == false)
    }
}
