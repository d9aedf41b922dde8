// nabla-runc under real engines: Debian's podman (through conmon) and
// containerd (through its runc v2 shim, driven by ctr).
//
// Podman here needs --ulimit nofile=1024:1024 --ulimit nproc=1024:1024:
// its defaults are above this machine's hard limits. Its ordinary
// containers use runc (crun refuses the cgroup v1/v2 hybrid); nabla
// containers use nabla-runc, given with --runtime. The runtime keeps its
// state in its default root, /run/nabla-runc: podman's cleanup process,
// which runs the final delete, does not pass --runtime-flag options on.
// Each test names its containers no-test-... and removes its image and
// containers.
//
// These need root and podman (or containerd and ctr); without them they
// are skipped and say so.

import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// podman with nabla-runc as its runtime.
final class Podman {
    static let limits = ["--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024"]
    /// nabla-runc's default --root.
    static let runtimeRoot = "/run/nabla-runc"
    let image: String
    private var containers: [String] = []

    /// Builds an image from docs/examples/Containerfile's pattern, holding
    /// `guests` at /NAME.nabla and each of `files` (name → host path) at
    /// /NAME, with `command` (/hello.nabla, the example's /app.nabla) as its
    /// command, `annotations` as the image's own (podman build
    /// --annotation), on top of `base` (scratch), with each of `hostFiles`
    /// at its own path.
    init(guests: [String], files: [String: String] = [:], annotations: [String: String] = [:],
         command: String = "/hello.nabla", base: String = "scratch", hostFiles: [String] = []) throws {
        let tag = OCIHost.tag()
        image = "localhost/no-test-" + tag + ":latest"
        try withTemporaryDirectory { context in
            // A first layer of its own: tests that copy the same guests
            // would otherwise share layers, and one test's rmi could remove
            // a layer another's build is using ("layer not known").
            try tag.write(toFile: context + "/no-test-tag", atomically: true, encoding: .utf8)
            var lines = ["FROM \(base)", "COPY no-test-tag /.no-test-tag"]
            for guest in Set(guests + ["hello"]) {
                try FileManager.default.copyItem(atPath: try Paths.guest(guest), toPath: context + "/" + guest + ".nabla")
                lines.append("COPY \(guest).nabla /\(guest).nabla")
            }
            for (name, path) in files.sorted(by: { $0.key < $1.key }) {
                try FileManager.default.copyItem(atPath: path, toPath: context + "/" + name)
                lines.append("COPY \(name) /\(name)")
            }
            for path in hostFiles {
                let copy = context + "/host" + path
                try FileManager.default.createDirectory(atPath: URL(fileURLWithPath: copy).deletingLastPathComponent().path, withIntermediateDirectories: true)
                try FileManager.default.copyItem(atPath: URL(fileURLWithPath: path).resolvingSymlinksInPath().path, toPath: copy)
            }
            if !hostFiles.isEmpty { lines.append("COPY host/ /") }
            lines.append(#"CMD [""# + command + #""]"#)
            try lines.joined(separator: "\n").write(toFile: context + "/Containerfile", atomically: true, encoding: .utf8)
            let labels = annotations.sorted { $0.key < $1.key }.flatMap { ["--annotation", "\($0.key)=\($0.value)"] }
            let build = try podman(["build", "-q", "-t", image] + labels + [context], timeout: 120)
            guard build.status == 0 else { throw HarnessError("podman build failed: \(build)") }
        }
    }

    deinit {
        for name in containers { _ = try? podman(["rm", "-f", name]) }
        Self.removeImage(image)
    }

    /// `podman rmi -f`, retried: it can lose a race with the cleanup of a
    /// container that still uses the image.
    static func removeImage(_ image: String) {
        for _ in 0..<5 {
            if (try? run(OCIHost.tool("podman") ?? "podman", ["rmi", "-f", image]))?.status == 0 { return }
            usleep(200_000)
        }
    }

    /// A fresh container name, removed on deinit.
    func name() -> String {
        let name = "no-test-" + OCIHost.tag()
        containers.append(name)
        return name
    }

    func podman(_ arguments: [String], timeout: Double = 60) throws -> Outcome {
        try run(OCIHost.tool("podman") ?? "podman", ["--runtime", OCIHost.runtime] + arguments, timeout: timeout)
    }

    /// `podman run LIMITS options IMAGE command...`.
    func runImage(_ options: [String], _ command: [String] = []) throws -> Outcome {
        try podman(["run"] + Self.limits + options + [image] + command)
    }

    /// Whether nabla-runc's state for container `id` is gone, waiting up to
    /// 5 s: podman deletes from a cleanup process after the guest exits.
    static func runtimeStateGone(_ id: String) -> Bool {
        let deadline = Date().addingTimeInterval(5)
        while FileManager.default.fileExists(atPath: runtimeRoot + "/" + id) && Date() < deadline { usleep(20_000) }
        return !FileManager.default.fileExists(atPath: runtimeRoot + "/" + id)
    }

    func inspect(_ name: String, _ format: String) throws -> String {
        try podman(["inspect", "--format", format, name]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

@Suite("OCI runtime under podman", .serialized)
struct OCIPodmanTests {
    @Test("hello prints and exits 0, with and without podman's network; prints the run latency",
          .enabled(if: OCIHost.hasPodman, "needs root, podman and conmon (tools/install-deps)"))
    func hello() throws {
        let podman = try Podman(guests: ["hello"])
        for network in [["--network", "none"], []] {
            let cidFile = NSTemporaryDirectory() + "no-cid-" + OCIHost.tag()
            defer { try? FileManager.default.removeItem(atPath: cidFile) }
            let outcome = try podman.runImage(["--rm", "--cidfile", cidFile] + network)
            #expect(outcome.status == 0 && outcome.stdout == "Hello from a nabla guest!\n", "\(network): \(outcome)")
            let id = try String(contentsOfFile: cidFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(Podman.runtimeStateGone(id), "--rm leaves nothing in \(Podman.runtimeRoot)/\(id)")
        }
        var times: [Double] = []
        for _ in 0..<5 {
            let start = Date()
            _ = try podman.runImage(["--rm", "--network", "none"])
            times.append(Date().timeIntervalSince(start))
        }
        times.sort()
        print("podman run --rm --network none hello with nabla-runc: median \(Int(times[2] * 1000)) ms (min \(Int(times[0] * 1000)) ms)")
    }

    @Test("docs/examples/Containerfile builds an image that podman runs with nabla-runc",
          .enabled(if: OCIHost.hasPodman, "needs root and podman"))
    func exampleContainerfile() throws {
        let podman = try #require(OCIHost.tool("podman"))
        let image = "localhost/no-test-example-" + OCIHost.tag() + ":latest"
        let containerfile = Paths.packageRoot.appendingPathComponent("docs/examples/Containerfile").path
        _ = try Paths.guest("hello")
        let build = try run(podman, ["build", "-q", "-t", image, "-f", containerfile, Paths.guests], timeout: 120)
        defer { Podman.removeImage(image) }
        #expect(build.status == 0, "\(build)")
        let outcome = try run(podman, ["--runtime", OCIHost.runtime, "run", "--rm", "--network", "none"] + Podman.limits + [image])
        #expect(outcome.status == 0 && outcome.stdout == "Hello from a nabla guest!\n", "\(outcome)")
    }

    @Test("the guest's exit status is podman's", .enabled(if: OCIHost.hasPodman, "needs root and podman"),
          arguments: [3, 42])
    func exitStatus(status: Int) throws {
        let podman = try Podman(guests: ["exit"])
        let outcome = try podman.runImage(["--rm", "--network", "none"], ["/exit.nabla", String(status)])
        #expect(outcome.status == Int32(status), "\(outcome)")
    }

    @Test("podman stop ends a spinning guest with SIGTERM well within the stop timeout (exit 143)",
          .enabled(if: OCIHost.hasPodman, "needs root and podman"))
    func stop() throws {
        let podman = try Podman(guests: ["attack-spin"])
        let name = podman.name()
        let started = try podman.runImage(["-d", "--name", name, "--network", "none"], ["/attack-spin.nabla"])
        #expect(started.status == 0, "\(started)")
        #expect(try podman.inspect(name, "{{.State.Status}}") == "running")
        let before = Date()
        let stop = try podman.podman(["stop", "-t", "5", name])
        let took = Date().timeIntervalSince(before)
        #expect(stop.status == 0, "\(stop)")
        #expect(took < 4, "SIGTERM, not the SIGKILL after 5 s, ended it: \(took) s")
        #expect(try podman.inspect(name, "{{.State.ExitCode}}") == "143")
        #expect(try podman.podman(["rm", name]).status == 0)
    }

    @Test("podman rm -f of a running guest kills it and leaves nothing: process, cgroup, runtime state",
          .enabled(if: OCIHost.hasPodman, "needs root and podman"))
    func removeForce() throws {
        let podman = try Podman(guests: ["attack-spin"])
        let name = podman.name()
        #expect(try podman.runImage(["-d", "--name", name, "--network", "none", "--memory", "64m"], ["/attack-spin.nabla"]).status == 0)
        let pid = try #require(Int32(try podman.inspect(name, "{{.State.Pid}}")))
        let id = try podman.inspect(name, "{{.Id}}")
        #expect(FileManager.default.fileExists(atPath: Podman.runtimeRoot + "/" + id))
        let cgroup = try String(contentsOfFile: "/proc/\(pid)/cgroup", encoding: .utf8)
        let memoryPath = try #require(cgroup.split(separator: "\n").first { $0.contains(":memory:") }?.split(separator: ":").last.map(String.init))
        #expect(try String(contentsOfFile: "/sys/fs/cgroup/memory\(memoryPath)/memory.limit_in_bytes", encoding: .utf8) == "67108864\n")
        let commandLine = try String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8).split(separator: "\0")
        #expect(commandLine.starts(with: ["nabla-run", "--mem", "56M"]), "\(commandLine)")

        let remove = try podman.podman(["rm", "-f", name])
        #expect(remove.status == 0, "\(remove)")
        #expect(ProcessStatus(pid: pid)?.isZombieOrGone ?? true)
        #expect(try podman.podman(["ps", "-a", "-q", "--filter", "name=" + name]).stdout.isEmpty)
        #expect(Podman.runtimeStateGone(id))
        #expect(!FileManager.default.fileExists(atPath: "/sys/fs/cgroup/memory" + memoryPath))
    }

    @Test("podman run -d -p 127.0.0.1:PORT:80 reaches the httpd guest's TCP port 80: curl gets the site's files",
          .enabled(if: OCIHost.hasPodman, "needs root and podman"))
    func publishedTCPPort() throws {
        try withTemporaryDirectory { dir in
            let site = try Site.make(in: dir)
            let podman = try Podman(guests: ["httpd"], files: ["site.tar": site.archive])
            let name = podman.name()
            let port = UInt16.random(in: 20000...40000)
            let started = try podman.runImage(["-d", "--name", name, "-p", "127.0.0.1:\(port):80",
                                               "--annotation", "org.nabla.disk.site=/site.tar",
                                               "--annotation", "org.nabla.disk-readonly.site=true"],
                                              ["/httpd.nabla", "--disk=site"])
            #expect(started.status == 0, "\(started)")
            let deadline = Date().addingTimeInterval(15)
            while !(try podman.podman(["logs", name]).stdout.contains("files on port 80")) && Date() < deadline { usleep(50_000) }
            let curl = try NetHost.tool("curl", package: "curl")
            for (path, bytes) in site.files.sorted(by: { $0.key < $1.key }).prefix(3) {
                let encoded = path.split(separator: "/").map { $0.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? String($0) }
                    .joined(separator: "/")
                let fetched = try run(curl, ["-s", "--max-time", "10", "-o", dir + "/fetched", "-w", "%{http_code}",
                                             "http://127.0.0.1:\(port)/" + encoded])
                #expect(fetched.stdout == "200", "\(path): \(fetched)")
                #expect(try fileBytes(dir + "/fetched") == bytes, "\(path) byte for byte")
            }
            let missing = try run(curl, ["-s", "--max-time", "10", "-o", "/dev/null", "-w", "%{http_code}", "http://127.0.0.1:\(port)/no-such-file"])
            #expect(missing.stdout == "404", "\(missing)")
            let stop = try podman.podman(["stop", "-t", "5", name], timeout: 30)
            #expect(stop.status == 0, "\(stop)")
        }
    }

    @Test("podman run -d -p reaches the guest over the container's eth0: UDP echo through 127.0.0.1",
          .enabled(if: OCIHost.hasPodman, "needs root and podman"))
    func publishedPort() throws {
        let podman = try Podman(guests: ["udp-echo"])
        let name = podman.name()
        let port = UInt16.random(in: 20000...40000)
        let started = try podman.runImage(["-d", "--name", name, "-p", "127.0.0.1:\(port):7/udp"], ["/udp-echo.nabla"])
        #expect(started.status == 0, "\(started)")
        let deadline = Date().addingTimeInterval(10)
        while !(try podman.podman(["logs", name]).stdout.contains("udp-echo: ready")) && Date() < deadline { usleep(20_000) }
        let logs = try podman.podman(["logs", name]).stdout
        let address = try podman.inspect(name, "{{.NetworkSettings.IPAddress}}")
        #expect(logs.contains("ipv4 \(address)/"), "the guest has the container's address \(address): \(logs)")

        let socket = try UDPSocket(bindTo: "127.0.0.1", in: nil)  // loopback, to podman's published port
        let payload = Array("hello through podman's port".utf8)
        #expect(try socket.exchange(payload, with: "127.0.0.1", port: port) == payload)
        try socket.send(Array("nabla:quit".utf8), to: "127.0.0.1", port: port)
        let wait = try podman.podman(["wait", name])
        #expect(wait.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "0", "\(wait)")
    }

    @Test("podman run -t hands the guest a terminal through the console socket; -i and -it run it too; podman logs has a detached guest's output",
          .enabled(if: OCIHost.hasPodman, "needs root and podman"))
    func terminal() throws {
        let podman = try Podman(guests: ["hello"])
        let outcome = try podman.runImage(["--rm", "-t", "--network", "none"])
        #expect(outcome.status == 0 && outcome.stdout.contains("Hello from a nabla guest!\r\n"), "\(outcome)")
        for flags in [["-i"], ["-i", "-t"]] {
            let interactive = try podman.runImage(["--rm", "--network", "none"] + flags)
            #expect(interactive.status == 0 && interactive.stdout.contains("Hello from a nabla guest!"), "\(flags): \(interactive)")
        }
        let name = podman.name()
        #expect(try podman.runImage(["-d", "--name", name, "--network", "none"]).status == 0)
        #expect(try podman.podman(["wait", name]).stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "0")
        let logs = try podman.podman(["logs", name])
        #expect(logs.status == 0 && logs.stdout == "Hello from a nabla guest!\n", "\(logs)")
    }

    @Test("podman run -i pipes stdin to the guest, -e sets its environment, -t makes its streams terminals",
          .enabled(if: OCIHost.hasPodman, "needs root and podman"))
    func streamsAndEnvironment() throws {
        let podman = try Podman(guests: ["cat", "process"])
        let arguments = ["--runtime", OCIHost.runtime, "run", "--rm", "--network", "none"] + Podman.limits
        let piped = try run("/bin/sh", ["-c", "printf 'hello\\nworld\\n' | \"$0\" \"$@\"", OCIHost.tool("podman") ?? "podman"]
                            + arguments + ["-i", podman.image, "/cat.nabla"], timeout: 60)
        #expect(piped.status == 0 && piped.stdout == "hello\nworld\n", "\(piped)")
        let env = try podman.runImage(["--rm", "--network", "none", "-e", "COLOUR=blue"], ["/process.nabla", "env", "COLOUR"])
        #expect(env.status == 0 && env.stdout == "COLOUR blue\n", "\(env)")
        let tty = try podman.runImage(["--rm", "-t", "--network", "none"], ["/process.nabla", "tty"])
        #expect(tty.status == 0 && tty.stdout.contains("fd 0 isatty 1 chr\r\nfd 1 isatty 1 chr\r\nfd 2 isatty 1 chr\r\n"), "\(tty)")
    }

    @Test("disks from annotations: a volume becomes the guest's disk; a :ro volume a read-only one",
          .enabled(if: OCIHost.hasPodman, "needs root and podman"))
    func disks() throws {
        let podman = try Podman(guests: ["kvlog"])
        try withTemporaryDirectory { directory in
            let disk = directory + "/kv.img"
            #expect(FileManager.default.createFile(atPath: disk, contents: Data(count: 1 << 20)))
            let annotation = ["--annotation", "org.nabla.disk.disk=/data/kv.img"]
            let put = try podman.runImage(["--rm", "--network", "none", "-v", disk + ":/data/kv.img"] + annotation, ["/kvlog.nabla", "put", "colour", "blue"])
            #expect(put.status == 0 && put.stdout.contains("ok 1"), "\(put)")
            let get = try podman.runImage(["--rm", "--network", "none", "-v", disk + ":/data/kv.img:ro"] + annotation, ["/kvlog.nabla", "get", "colour"])
            #expect(get.status == 0 && get.stdout == "blue\n", "\(get)")
            let readOnly = try podman.runImage(["--rm", "--network", "none", "-v", disk + ":/data/kv.img:ro"] + annotation, ["/kvlog.nabla", "put", "colour", "red"])
            #expect(readOnly.status != 0, "a put on a read-only disk fails: \(readOnly)")
        }
    }

    @Test("an image whose command is not a nabla guest fails with the runtime's one-line reason",
          .enabled(if: OCIHost.hasPodman, "needs root and podman"))
    func notNabla() throws {
        let podman = try Podman(guests: ["hello"])
        let name = podman.name()
        let outcome = try podman.runImage(["--name", name, "--network", "none"], ["/bin/sh"])
        #expect(outcome.status != 0 && outcome.stderr.contains("is not a nabla image"), "\(outcome)")
        #expect(Podman.runtimeStateGone(try podman.inspect(name, "{{.Id}}")))
    }

    @Test("nabla-runc's failures reach podman as runc's: a missing disk is a runtime error (126), not 'command not found' (127); a missing image is 127, as a missing command under runc",
          .enabled(if: OCIHost.hasPodman, "needs root and podman"))
    func errorStatuses() throws {
        let podman = try Podman(guests: ["kvlog"])
        let disk = try podman.runImage(["--rm", "--network", "none", "--annotation", "org.nabla.disk.disk=/missing.img"], ["/kvlog.nabla", "get", "x"])
        #expect(disk.status == 126 && disk.stderr.contains("cannot open disk") && disk.stderr.contains("missing (ENOENT)")
                && !disk.stderr.contains("not found"), "\(disk)")
        let image = try podman.runImage(["--rm", "--network", "none"], ["/missing.nabla"])
        #expect(image.status == 127 && image.stderr.contains("no such file or directory"), "\(image)")
    }

    @Test("a Solo5 image (.spt) runs under podman with its arguments, with and without podman's network (its manifest declares no NIC, so none is wired)",
          .enabled(if: OCIHost.hasPodman, "needs root and podman"))
    func solo5Image() throws {
        let podman = try Podman(guests: [], files: ["hello.spt": try solo5Guest("hello")], command: "/hello.spt")
        for network in [["--network", "none"], []] {
            let outcome = try podman.runImage(["--rm"] + network, ["/hello.spt", "one", "two"])
            #expect(outcome.status == 0 && outcome.stdout == "Hello from a Solo5 spt guest!\ncmdline: one two\nclocks ok\nyield ok\n",
                    "\(network): \(outcome)")
        }
    }

    @Test("an image annotated as a pod sandbox whose /app.nabla is a static Linux program: nabla-runc's pause runs, never the program",
          .enabled(if: OCIHost.hasPodman && NativeMarker.canBuild, "needs root, podman and gcc"),
          arguments: sandboxAnnotations)
    func sandboxImage(annotation: String) throws {
        try withTemporaryDirectory { work in
            try NativeMarker.build(to: work + "/app.nabla")
            let podman = try Podman(guests: [], files: ["app.nabla": work + "/app.nabla"], annotations: [annotation: "sandbox"], command: "/app.nabla")
            try FileManager.default.createDirectory(atPath: work + "/out", withIntermediateDirectories: false)
            let name = podman.name()
            let started = try podman.runImage(["-d", "--name", name, "--network", "none", "-v", work + "/out:/out"])
            #expect(started.status == 0, "\(started)")
            usleep(500_000)   // the program, had it run, would have written /out/marker at once
            #expect(!FileManager.default.fileExists(atPath: work + "/out/marker"), "the image's program ran natively")
            #expect(try podman.inspect(name, "{{.State.Status}}") == "running", "the pause waits")
            let pid = try podman.inspect(name, "{{.State.Pid}}")
            let executable = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/exe")
            #expect(executable == OCISandboxTests.runtimeExecutable, "the container's process is nabla-runc's pause: \(executable)")
            let stop = try podman.podman(["stop", "-t", "10", name])
            #expect(stop.status == 0, "\(stop)")
            #expect(try podman.inspect(name, "{{.State.Status}}") == "exited")
            #expect(!FileManager.default.fileExists(atPath: work + "/out/marker"))
        }
    }

    @Test("podman run -v and --tmpfs: one line each on stderr saying the mount is not mounted; none for podman's own mounts",
          .enabled(if: OCIHost.hasPodman, "needs root and podman"))
    func mountNotices() throws {
        let podman = try Podman(guests: ["hello"])
        try withTemporaryDirectory { volume in
            let outcome = try podman.runImage(["--rm", "--network", "none", "-v", volume + ":/data", "--tmpfs", "/scratch"])
            #expect(outcome.status == 0 && outcome.stdout == "Hello from a nabla guest!\n", "\(outcome)")
            let lines = outcome.stderr.split(separator: "\n").filter { $0.contains("nabla-runc: mount ") }
            #expect(lines.count == 2, "\(outcome.stderr)")
            #expect(lines.filter { $0.contains("mount /data (bind mount of \(volume)) is not mounted and is ignored") }.count == 1, "\(outcome.stderr)")
            #expect(lines.filter { $0.contains("mount /scratch (tmpfs) is not mounted and is ignored") }.count == 1, "\(outcome.stderr)")
        }
    }

    @Test("a block device node in an image layer, named by the image's own disk annotation, is refused; podman run --device grants one",
          .enabled(if: OCIHost.hasPodman && LoopDevice.available, "needs root, podman and a free loop device"))
    func deviceDisks() throws {
        let loop = try LoopDevice()
        try withTemporaryDirectory { work in
            // A base layer holding a node for the loop device, as an image can carry one for any host disk.
            try FileManager.default.createDirectory(atPath: work + "/layer", withIntermediateDirectories: false)
            #expect(try run(OCIHost.tool("mknod") ?? "mknod", [work + "/layer/disk.img", "b", String(loop.major), String(loop.minor)]).status == 0)
            #expect(try run("/bin/tar", ["-C", work + "/layer", "-cf", work + "/layer.tar", "."]).status == 0)
            let base = "localhost/no-test-base-" + OCIHost.tag()
            let imported = try run(OCIHost.tool("podman") ?? "podman", ["import", "-q", work + "/layer.tar", base], timeout: 60)
            #expect(imported.status == 0, "\(imported)")
            // The derived image goes first (its Podman is dropped at the end of the do), then the base.
            do {
                let podman = try Podman(guests: ["kvlog"], annotations: ["org.nabla.disk.disk": "/disk.img"], command: "/kvlog.nabla", base: base)
                let fromImage = try podman.runImage(["--rm", "--network", "none"], ["/kvlog.nabla", "put", "colour", "blue"])
                #expect(fromImage.status != 0 && fromImage.stderr.contains("disk disk: /disk.img") && fromImage.stderr.contains("must be a regular file"), "\(fromImage)")
                #expect(loop.content == Data(count: 1 << 20), "the host's device was written")

                let granted = ["--device", loop.device + ":/dev/vdb", "--annotation", "org.nabla.disk.disk=/dev/vdb"]
                let put = try podman.runImage(["--rm", "--network", "none"] + granted, ["/kvlog.nabla", "put", "colour", "blue"])
                #expect(put.status == 0 && put.stdout.contains("ok 1"), "\(put)")
                let get = try podman.runImage(["--rm", "--network", "none"] + granted, ["/kvlog.nabla", "get", "colour"])
                #expect(get.status == 0 && get.stdout == "blue\n", "\(get)")
                // A volume of the device without --device: its device rules deny it, as runc's device cgroup would.
                let volume = try podman.runImage(["--rm", "--network", "none", "-v", loop.device + ":/dev/vdb", "--annotation", "org.nabla.disk.disk=/dev/vdb"],
                                                 ["/kvlog.nabla", "get", "colour"])
                #expect(volume.status != 0 && volume.stderr.contains("does not allow block device"), "\(volume)")
            }
            Podman.removeImage(base)
        }
    }
}

/// A containerd of the test's own (root, state, socket in a temporary
/// directory; no CRI), driven with ctr in a namespace of its own.
final class Containerd {
    let directory: String
    let namespace: String
    private let daemon: Child
    var socket: String { directory + "/containerd.sock" }

    init() throws {
        let tag = OCIHost.tag()
        directory = "/tmp/no-ctrd-" + tag
        namespace = "no-test-" + tag
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let config = """
            version = 2
            root = "\(directory)/root"
            state = "\(directory)/state"
            disabled_plugins = ["io.containerd.grpc.v1.cri"]
            [grpc]
              address = "\(directory)/containerd.sock"
            [ttrpc]
              address = "\(directory)/containerd.sock.ttrpc"
            """
        try config.write(toFile: directory + "/config.toml", atomically: true, encoding: .utf8)
        daemon = try Child(OCIHost.tool("containerd") ?? "containerd", ["--config", directory + "/config.toml"],
                           stdout: directory + "/log", stderr: directory + "/log")
        let deadline = Date().addingTimeInterval(15)
        while !FileManager.default.fileExists(atPath: socket) && Date() < deadline { usleep(20_000) }
        guard FileManager.default.fileExists(atPath: socket) else {
            throw HarnessError("containerd did not start: \((try? String(contentsOfFile: directory + "/log", encoding: .utf8)) ?? "")")
        }
    }

    deinit {
        Glibc.kill(daemon.pid, SIGTERM)
        if daemon.wait(timeout: 10) == nil { daemon.kill() }
        try? FileManager.default.removeItem(atPath: directory)
        // The runc shim's --root for this namespace, empty once its containers are deleted.
        rmdir("/run/containerd/runc/" + namespace)
    }

    func ctr(_ arguments: [String], timeout: Double = 60) throws -> Outcome {
        try run(OCIHost.tool("ctr") ?? "ctr", ["-a", socket, "-n", namespace] + arguments, timeout: timeout)
    }
}

@Suite("OCI runtime under containerd", .serialized)
struct OCIContainerdTests {
    @Test("ctr run --runc-binary runs hello and passes a guest's exit status",
          .enabled(if: OCIHost.hasContainerd, "needs root, containerd and ctr (tools/install-deps)"))
    func hello() throws {
        let containerd = try Containerd()
        let bundle = try OCIBundle(guests: ["hello", "exit"])
        let hello = try containerd.ctr(["run", "--rm", "--runc-binary", OCIHost.runtime, "--rootfs", bundle.rootfs,
                                        "no-test-" + OCIHost.tag(), "/hello.nabla"])
        #expect(hello.status == 0 && hello.stdout == "Hello from a nabla guest!\n", "\(hello)")
        let exit = try containerd.ctr(["run", "--rm", "--runc-binary", OCIHost.runtime, "--rootfs", bundle.rootfs,
                                       "no-test-" + OCIHost.tag(), "/exit.nabla", "9"])
        #expect(exit.status == 9, "\(exit)")
    }

    @Test("ctr run --with-ns network: a network guest answers pings through the namespace's eth0",
          .enabled(if: OCIHost.hasContainerd && OCIHost.hasNetworkTools, "needs root, containerd, ctr, ip, tc and ping"))
    func network() throws {
        let containerd = try Containerd()
        let pair = try NamespacePair()
        let bundle = try OCIBundle(guests: ["ping-serve"])
        let out = bundle.path + "/ctr.out"
        let guest = try Child(OCIHost.tool("ctr") ?? "ctr",
                              ["-a", containerd.socket, "-n", containerd.namespace, "run", "--rm", "--runc-binary", OCIHost.runtime,
                               "--with-ns", "network:" + pair.containerPath, "--rootfs", bundle.rootfs,
                               "no-test-" + OCIHost.tag(), "/ping-serve.nabla", "limit=3"], stdout: out, stderr: out)
        let deadline = Date().addingTimeInterval(15)
        while !((try? String(contentsOfFile: out, encoding: .utf8)) ?? "").contains("ping-serve: ready") && Date() < deadline { usleep(20_000) }
        let ping = try pair.inHost("ping", ["-c", "3", "-i", "0.2", "-W", "1", pair.containerAddress])
        #expect(ping.stdout.contains("3 packets transmitted, 3 received"), "\(ping)")
        let status = guest.wait(timeout: 15)
        let output = (try? String(contentsOfFile: out, encoding: .utf8)) ?? ""
        #expect(status == 0 && output.contains("replies 3"), "status \(String(describing: status)): \(output)")
    }

    @Test("an image built with podman and imported with ctr runs from containerd's snapshotter",
          .enabled(if: OCIHost.hasContainerd && OCIHost.hasPodman, "needs root, containerd, ctr and podman"))
    func importedImage() throws {
        let containerd = try Containerd()
        let podman = try Podman(guests: ["hello"])
        let archive = containerd.directory + "/image.tar"
        let save = try podman.podman(["save", "--format", "oci-archive", "-o", archive, podman.image])
        #expect(save.status == 0, "\(save)")
        let imported = try containerd.ctr(["images", "import", archive])
        #expect(imported.status == 0, "\(imported)")
        let outcome = try containerd.ctr(["run", "--rm", "--runc-binary", OCIHost.runtime, podman.image, "no-test-" + OCIHost.tag()])
        #expect(outcome.status == 0 && outcome.stdout == "Hello from a nabla guest!\n", "\(outcome)")
        _ = try containerd.ctr(["images", "rm", podman.image])
    }

    @Test("ctr task kill stops a detached guest; the task's exit status is the tender's (143)",
          .enabled(if: OCIHost.hasContainerd, "needs root, containerd and ctr"))
    func kill() throws {
        let containerd = try Containerd()
        let bundle = try OCIBundle(guests: ["attack-spin"])
        let id = "no-test-" + OCIHost.tag()
        let started = try containerd.ctr(["run", "-d", "--runc-binary", OCIHost.runtime, "--rootfs", bundle.rootfs, id, "/attack-spin.nabla"])
        #expect(started.status == 0, "\(started)")
        #expect(try containerd.ctr(["task", "ls"]).stdout.contains(try Regex(id + #"\s+\d+\s+RUNNING"#)))
        #expect(try containerd.ctr(["task", "kill", "-s", "SIGTERM", id]).status == 0)
        let deadline = Date().addingTimeInterval(10)
        while !(try containerd.ctr(["task", "ls"]).stdout.contains("STOPPED")) && Date() < deadline { usleep(20_000) }
        #expect(try containerd.ctr(["task", "ls"]).stdout.contains(try Regex(id + #"\s+\d+\s+STOPPED"#)))
        let delete = try containerd.ctr(["task", "delete", id])
        #expect(delete.status == 0 && delete.stderr.contains("exit code 143"), "\(delete)")
        #expect(try containerd.ctr(["container", "delete", id]).status == 0)
    }
}
