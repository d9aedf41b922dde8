// Runtime.swift: the OCI lifecycle: create, start, state, kill, delete.
//
// create makes the container's folder and exec fifo, wires the network in
// the container's network namespace, makes its cgroup, and starts the init
// process (this binary again, `init`), which enters the remaining
// namespaces, applies rlimits, user, capabilities and no_new_privs, reports
// back, and blocks opening the fifo. start opens the fifo's other end; init
// then execs the tender, nabla-run, which becomes the container's process.
// So the pid engines wait on is the tender's, and its exit status is the
// guest's.

import CNablaRunc
import Glibc

struct Runtime {
    let options: GlobalOptions
    var store: StateStore { StateStore(root: options.root) }

    func run(_ command: Command) throws(RuncError) {
        switch command {
        case .create(let request):
            try create(request)
        case .run(let request):
            exit(try run(request))
        case .start(let id): try start(id: id)
        case .state(let id): try state(id: id)
        case let .kill(id, signal, all): try kill(id: id, signal: signal, all: all)
        case let .ps(id, json): try processes(id: id, json: json)
        case let .delete(id, force): try delete(id: id, force: force)
        case .spec(let bundle): try writeTemplate(bundle: bundle)
        case .features: print(Self.features.serialized)
        case .version: print("nabla-runc version \(runtimeVersion)\nspec: \(specVersion)")
        case .help: print(RuncCommandLine.usage)
        case .initProcess(let fd): ContainerInit(syncFD: fd).run()
        case let .refused(name, reason):
            throw .unsupported("\(name) is not supported: \(reason)")
        }
    }

    // MARK: create

    /// Creates the container; returns the pid of its process (a child of this one).
    @discardableResult
    private func create(_ request: CreateOptions) throws(RuncError) -> pid_t {
        let id = request.id, bundle = request.bundle, pidFile = request.pidFile, consoleSocket = request.consoleSocket
        if options.systemdCgroup {
            throw .unsupported("--systemd-cgroup: the systemd cgroup driver is not supported; configure the engine for cgroupfs (podman: cgroup_manager = \"cgroupfs\" in containers.conf; containerd: SystemdCgroup = false)")
        }
        // Everything that can be checked is checked before anything is made.
        let spec = try ContainerSpec.load(bundle: bundle)
        if spec.terminal && consoleSocket == nil {
            throw .usage("process.terminal is true but no --console-socket was given")
        }
        let cgroup = try spec.cgroupsPath.map { path throws(RuncError) in try ContainerCgroup(cgroupsPath: path) }
        let files: GuestFiles?, guestArguments: [String]
        switch spec.workload {
        case let .guest(image, arguments):
            files = try GuestFiles.open(spec, image: image)
            guestArguments = arguments
        case .podSandbox:
            files = nil
            guestArguments = []
        }
        defer { files?.close() }
        var notices = files.map { MountNotices.lines(for: spec, disks: $0.disks.map(\.0)) } ?? []

        try store.makeDirectory(id)
        guard let folder = try store.lock(id) else { throw .state("container \(id) is locked by another command") }
        defer { folder.close() }
        var record = ContainerRecord(id: id, bundle: bundle, rootfs: spec.rootfs,
                                     annotations: Dictionary(spec.annotations, uniquingKeysWith: { $1 }))
        var child: pid_t = 0
        do throws(RuncError) {
            try store.save(record)
            // Owned by the container's user: init opens it after setuid
            // (through its O_PATH descriptor; the folder stays 0700).
            guard mkfifoat(folder.fd, "exec.fifo", 0o600) == 0,
                  fchownat(folder.fd, "exec.fifo", spec.uid, spec.gid, AT_SYMLINK_NOFOLLOW) == 0 else {
                throw .system("cannot create \(store.fifo(id))")
            }

            // The network namespace: create stays in it, so the TAP, the
            // filters and the init process all land there.
            var uplink: Uplink?
            if let namespace = spec.namespace(.network) {
                if let path = namespace.path {
                    try NetworkNamespace.join(path)
                } else if nrc_unshare(CLONE_NEWNET) != 0 {
                    throw .system("cannot create a network namespace")
                }
                // A sandbox's namespace is wired by the nabla container that joins it.
                if spec.wantsNetwork, files?.wantsNetwork == true, let found = Uplink.discover() {
                    uplink = found
                    record.joinedNetworkNamespace = namespace.path
                    record.tap = NetworkWiring.tapName
                    record.uplink = found.interface
                    try store.save(record)
                    if try !NetworkWiring.wire(found, uid: spec.uid, gid: spec.gid) {
                        // Another guest of the pod has it: this one runs without a NIC.
                        uplink = nil
                        record.joinedNetworkNamespace = nil
                        record.tap = nil
                        record.uplink = nil
                        try store.save(record)
                        notices.append(NetworkWiring.takenNotice)
                    }
                }
            }

            if let cgroup {
                try cgroup.create(intend: { paths throws(RuncError) in
                    record.cgroups += paths
                    try store.save(record)
                }, abandon: { paths throws(RuncError) in
                    record.cgroups.removeAll { paths.contains($0) }
                    try store.save(record)
                })
                try cgroup.apply(memoryLimit: spec.memoryLimit, pidsLimit: spec.pidsLimit)
            }

            if let path = spec.namespace(.pid)?.path {
                let fd = open(path, O_RDONLY | O_CLOEXEC)
                guard fd >= 0 else { throw RuncError(.noInput, "cannot open pid namespace \(path): \(RuncError.errnoText(errno))") }
                defer { close(fd) }
                guard nrc_setns(fd, CLONE_NEWPID) == 0 else { throw .system("cannot join pid namespace \(path)") }
            }

            let fifoFD = nrc_open_path(store.fifo(id), 0)
            guard fifoFD >= 0 else { throw .system("cannot open \(store.fifo(id))") }
            defer { Glibc.close(fifoFD) }
            let tender = files.map {
                TenderLaunch(arguments: $0.tenderArguments(spec, guestArguments: guestArguments, uplink: uplink),
                             environment: spec.environment, tenderFD: $0.tender, keepFDs: $0.guestFDs)
            }
            let plan = InitPlan(bundle: bundle, fifoFD: fifoFD, tender: tender, notices: notices)

            var pair: [Int32] = [0, 0]
            guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &pair) == 0 else {
                throw .system("socketpair")
            }
            defer { Glibc.close(pair[0]) }
            let terminal = try consoleSocket.map { path throws(RuncError) in try Terminal.open(sendingTo: path) }
            defer { if let terminal { Glibc.close(terminal) } }
            do {
                defer { Glibc.close(pair[1]) }
                child = try spawnInit(syncFD: pair[1], inherit: [fifoFD] + (files.map { [$0.tender] + $0.guestFDs } ?? []), terminal: terminal)
            }
            guard let identity = ProcessIdentity.of(child) else { throw .system("the init process \(child) vanished", errno: ESRCH) }
            record.process = identity
            try store.save(record)
            try cgroup?.join(child)

            try InitChannel(fd: pair[0]).send(plan)
            try InitChannel(fd: pair[0]).awaitReady()

            if let pidFile {
                try FileSystem.writeAtomically(pidFile, Array(String(child).utf8), mode: 0o644)
            }
            return child
        } catch {
            if child > 0 {
                Glibc.kill(child, SIGKILL)
                var raw: Int32 = 0
                while waitpid(child, &raw, 0) < 0 && errno == EINTR {}
            }
            removeEverything(record, fromCreate: true)
            throw error
        }
    }

    /// Starts `nabla-runc init FD` with the given descriptors inherited.
    private func spawnInit(syncFD: Int32, inherit: [Int32], terminal: Int32?) throws(RuncError) -> pid_t {
        for fd in inherit + [syncFD] { _ = fcntl(fd, F_SETFD, 0) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t(), all = sigset_t()
        sigemptyset(&empty)
        sigfillset(&all)
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setsigdefault(&attributes, &all)
        var flags = Int32(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF)
        if let terminal {
            for target in Int32(0)...2 { posix_spawn_file_actions_adddup2(&actions, terminal, target) }
            flags |= nrc_spawn_setsid_flag()
        }
        posix_spawnattr_setflags(&attributes, Int16(flags))
        let words: [String] = ["nabla-runc", "init", String(syncFD)]
        let argv = words.map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, "/proc/self/exe", &actions, &attributes, argv, environ)
        for fd in inherit + [syncFD] { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        guard result == 0 else { throw .system("cannot start the container's init process", errno: result) }
        return pid
    }

    /// create, start, wait, delete: the guest's status, as a shell reports it.
    private func run(_ request: CreateOptions) throws(RuncError) -> Int32 {
        let child = try create(request)
        try start(id: request.id)
        var raw: Int32 = 0
        while waitpid(child, &raw, 0) < 0 && errno == EINTR {}
        try delete(id: request.id, force: true)
        return (raw & 0x7f) == 0 ? (raw >> 8) & 0xff : 128 + (raw & 0x7f)
    }

    // MARK: start, state, kill

    private func start(id: String) throws(RuncError) {
        _ = try store.load(id)   // "does not exist" before anything else
        guard let folder = try store.lock(id) else { throw .state("container \(id) is locked") }
        defer { folder.close() }
        let record = try store.load(id)
        let status = store.status(of: record, holdingLock: true)
        guard status == .created, let process = record.process else {
            throw .state("cannot start container \(id): it is \(status.rawValue) (start works once, on a created container)")
        }
        let fd = openat(folder.fd, "exec.fifo", O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { throw .system("cannot open \(store.fifo(id))") }
        defer { close(fd) }
        unlinkat(folder.fd, "exec.fifo", 0)
        // The init process is blocked opening the fifo for writing; now that
        // it has a reader it writes one byte and execs the tender.
        var pollFD = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        for _ in 0..<100 {
            let ready = poll(&pollFD, 1, 100)
            if ready > 0 {
                var byte: UInt8 = 0
                if read(fd, &byte, 1) == 1 { return }
                throw .state("cannot start container \(id): its init process exited before it was started")
            }
            if !process.isAlive { throw .state("cannot start container \(id): its init process exited before it was started") }
        }
        throw RuncError(.system, "cannot start container \(id): its init process did not answer within 10 s")
    }

    private func state(id: String) throws(RuncError) {
        let record = try store.load(id)
        print(store.ociState(of: record).serialized)
    }

    /// As runc: a container that is not running answers "container not
    /// running" (containerd's shim reads that as "process already
    /// finished"), except with --all, which is then no error.
    private func kill(id: String, signal: Int32, all: Bool) throws(RuncError) {
        let record = try store.load(id)
        let status = store.status(of: record)
        guard status == .created || status == .running, let process = record.process else {
            if all { return }
            throw .state("container not running: cannot signal container \(id), it is \(status.rawValue)")
        }
        guard Glibc.kill(process.pid, signal) == 0 else {
            // Ended between the status check and the signal: runc's words and status.
            if errno == ESRCH { throw .state("container not running: cannot signal container \(id): no such process") }
            throw .system("kill \(process.pid)")
        }
    }

    /// `ps`: the one process, as runc prints it (a JSON array of pids, or a table).
    private func processes(id: String, json: Bool) throws(RuncError) {
        let record = try store.load(id)
        let status = store.status(of: record)
        guard status == .created || status == .running, let process = record.process else {
            throw .state("container \(id) is \(status.rawValue): it has no processes")
        }
        print(json ? JSON.array([.number(Double(process.pid))]).serialized : "PID\n\(process.pid)")
    }

    // MARK: delete

    private func delete(id: String, force: Bool) throws(RuncError) {
        // As runc: --force on a container that does not exist is no error
        // (engines delete --force after a create that failed).
        if force, try !store.hasEntry(id) { return }
        _ = try store.load(id)   // "does not exist" before anything else
        guard let folder = try store.lock(id) else { throw .state("container \(id) is locked") }
        defer { folder.close() }
        let record = try store.load(id)
        let status = store.status(of: record, holdingLock: true)
        if status != .stopped {
            guard force else {
                throw .state("cannot delete container \(id): it is \(status.rawValue); stop it first (nabla-runc kill \(id) KILL) or use delete --force")
            }
            if let process = record.process {
                Glibc.kill(process.pid, SIGKILL)
                var waited = 0
                while process.isAlive && waited < 10_000 {
                    sleepMilliseconds(10)
                    waited += 10
                }
                guard !process.isAlive else { throw RuncError(.system, "container \(id): process \(process.pid) did not die within 10 s of SIGKILL") }
            }
        }
        removeEverything(record, fromCreate: false)
    }

    /// Removes all a container had: the TAP and filters in a joined network
    /// namespace (a namespace the runtime made dies with the process), the
    /// cgroups, the folder. Each part tolerates being gone already.
    /// `fromCreate`: a failing create, still inside the namespace it made.
    private func removeEverything(_ record: ContainerRecord, fromCreate: Bool) {
        if let tap = record.tap {
            if let path = record.joinedNetworkNamespace {
                if FileSystem.exists(path), (try? NetworkNamespace.join(path)) != nil {
                    NetworkWiring.unwire(tap: tap, uplink: record.uplink)
                }
            } else if fromCreate {
                NetworkWiring.unwire(tap: tap, uplink: record.uplink)
            }
            // Otherwise the namespace was the runtime's own and died with the process.
        }
        ContainerCgroup.remove(record.cgroups)
        store.remove(record.id)
    }

    // MARK: spec, features

    /// The template `spec` writes: the guest /app.nabla in rootfs/, its own
    /// network, mount, ipc and uts namespaces, no network interface until an
    /// engine (or `ip`) puts one in the namespace.
    static var template: JSON {
        .object([
            ("ociVersion", .string(specVersion)),
            ("process", .object([
                ("terminal", .bool(false)),
                ("user", .object([("uid", .number(0)), ("gid", .number(0))])),
                ("args", .array([.string("/app.nabla")])),
                ("env", .array([])),
                ("cwd", .string("/")),
                ("noNewPrivileges", .bool(true)),
            ])),
            ("root", .object([("path", .string("rootfs")), ("readonly", .bool(true))])),
            ("hostname", .string("nabla")),
            ("annotations", .object([])),
            ("linux", .object([
                ("namespaces", .array(["network", "mount", "ipc", "uts"].map { .object([("type", .string($0))]) })),
                ("resources", .object([("memory", .object([("limit", .number(Double(72 << 20)))]))])),
            ])),
        ])
    }

    /// `spec`: writes the template as BUNDLE/config.json; refuses to overwrite.
    private func writeTemplate(bundle: String) throws(RuncError) {
        let path = bundle + "/config.json"
        guard !FileSystem.exists(path) else { throw .state("\(path) exists already; remove it first") }
        try FileSystem.writeAtomically(path, Array((Self.template.serialized + "\n").utf8), mode: 0o644)
    }


    /// The runtime-spec "features" document.
    static var features: JSON {
        .object([
            ("ociVersionMin", .string("1.0.0")),
            ("ociVersionMax", .string(specVersion)),
            ("hooks", .array([])),
            ("mountOptions", .array([])),
            ("linux", .object([
                ("namespaces", .array(["network", "mount", "pid", "ipc", "uts", "cgroup"].map { .string($0) })),
                ("capabilities", .array([])),
                ("cgroup", .object([("v1", .bool(true)), ("v2", .bool(true)), ("systemd", .bool(false)), ("systemdUser", .bool(false))])),
                ("seccomp", .object([("enabled", .bool(false))])),
                ("apparmor", .object([("enabled", .bool(false))])),
                ("selinux", .object([("enabled", .bool(false))])),
            ])),
            ("annotations", .object([
                ("org.nabla.runtime", .string("nabla-runc")),
                ("org.nabla.runtime.version", .string(runtimeVersion)),
                ("org.nabla.guest-filter", .string("seven system calls: read, write, pread64, pwrite64, ppoll, clock_gettime, exit_group")),
            ])),
        ])
    }
}

/// The descriptors create opens for the tender before anything is made:
/// the nabla-run binary, the image and the disks, each resolved inside the
/// container (so a symlink in the image cannot reach host files).
struct GuestFiles {
    let tender: Int32
    let image: Int32
    let disks: [(DiskSpec, Int32)]
    /// For a Solo5 image, the NICs its manifest declares (at most one);
    /// nil for a nabla image.
    let solo5Networks: [String]?
    var guestFDs: [Int32] { [image] + disks.map(\.1) }
    /// Whether the guest takes the container's network: a nabla guest
    /// always, a Solo5 image if its manifest declares a NIC.
    var wantsNetwork: Bool { solo5Networks.map { !$0.isEmpty } ?? true }

    static func open(_ spec: ContainerSpec, image imagePath: String) throws(RuncError) -> GuestFiles {
        let tenderPath = Self.tenderPath()
        let tender = nrc_open_path(tenderPath, 0)
        guard tender >= 0 else {
            throw RuncError(.noInput, "cannot open the tender \(tenderPath): \(RuncError.errnoText(errno)) (nabla-runc runs the nabla-run installed next to it)")
        }
        let root = nrc_open_path(spec.rootfs, 1)
        guard root >= 0 else {
            let message = RuncError.errnoText(errno)
            Glibc.close(tender)
            throw RuncError(.noInput, "cannot open the container's root file system \(spec.rootfs): \(message)")
        }
        defer { Glibc.close(root) }
        var opened: [Int32] = [tender]
        do throws(RuncError) {
            let found = try openInContainer(imagePath, root: root, spec: spec, what: "the image", isCommand: true)
            opened.append(found.fd)
            guard found.type == S_IFREG else { throw RuncError(.noInput, "the image \(found.shown) is not a regular file") }
            var disks: [(DiskSpec, Int32)] = []
            for disk in spec.disks {
                let fd = try openDisk(disk, root: root, spec: spec)
                opened.append(fd)
                disks.append((disk, fd))
            }
            let solo5Networks = Solo5Manifest.networkDevices(ofImage: found.fd)
            if let names = solo5Networks, names.count > 1 {
                throw RuncError.unsupported("the Solo5 image \(found.shown) declares \(names.count) network devices (\(names.joined(separator: ", "))): a container has one network interface for it")
            }
            // The container's own files are the guest's root, unless a disk
            // named root was given (docs/files.md). A Solo5 image has no
            // file layer of nabla's: it gets none.
            if solo5Networks == nil, !spec.disks.contains(where: { $0.name == RootArchive.diskName }) {
                let archive = try RootArchive.make(root: root, rootfs: spec.rootfs)
                opened.append(archive)
                disks.append((DiskSpec(name: RootArchive.diskName, path: spec.rootfs, readOnly: true), archive))
            }
            return GuestFiles(tender: tender, image: found.fd, disks: disks, solo5Networks: solo5Networks)
        } catch {
            for fd in opened { Glibc.close(fd) }
            throw error
        }
    }

    func close() {
        for fd in [tender] + guestFDs { Glibc.close(fd) }
    }

    /// nabla-run in the same directory as this executable.
    static func tenderPath() -> String {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX))
        let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard n > 0 else { return "nabla-run" }
        let own = String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return String(own[..<(own.lastIndex(of: "/") ?? own.startIndex)]) + "/nabla-run"
    }

    /// A file opened as the container sees it, and what it is.
    private struct Found {
        let fd: Int32
        /// The path, with where it was found, for messages.
        let shown: String
        /// The bind mount it was reached through, nil for the rootfs.
        let mount: MountSpec?
        /// S_IFREG, S_IFBLK, ...
        let type: mode_t
        let device: DeviceNumber
    }

    /// Opens `path` (O_PATH) as the container sees it: through a bind
    /// mount that covers it, else inside the rootfs with RESOLVE_IN_ROOT.
    /// `isCommand`: the file is the container's command (the image), so a
    /// missing one is said in runc's words for a missing executable, which
    /// engines report as "command not found" (podman: status 127).
    private static func openInContainer(_ path: String, root: Int32, spec: ContainerSpec, what: String,
                                        isCommand: Bool = false) throws(RuncError) -> Found {
        let fd: Int32
        let shown: String
        let mount = spec.bindMount(covering: path)
        if let mount {
            let rest = String(path.dropFirst(mount.destination.count).drop { $0 == "/" })
            shown = "\(path) (bind mount of \(mount.source))"
            if rest.isEmpty {
                fd = nrc_open_path(mount.source, 0)
            } else {
                let base = nrc_open_path(mount.source, 1)
                fd = base < 0 ? -1 : nrc_open_in_root(base, rest)
                if base >= 0 { let code = errno; Glibc.close(base); errno = code }
            }
        } else {
            shown = "\(path) in the container's root file system \(spec.rootfs)"
            fd = nrc_open_in_root(root, path)
        }
        guard fd >= 0 else {
            let reason = isCommand && errno == ENOENT ? "no such file or directory" : RuncError.errnoText(errno)
            throw RuncError(.noInput, "cannot open \(what) \(shown): \(reason)")
        }
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            let code = errno
            Glibc.close(fd)
            throw RuncError.system("cannot inspect \(what) \(shown)", errno: code)
        }
        return Found(fd: fd, shown: shown, mount: mount, type: st.st_mode & S_IFMT, device: DeviceNumber(st.st_rdev))
    }

    /// A disk: the host's node for a block device the engine granted in
    /// linux.devices, else the file through a bind mount or in the rootfs.
    /// A block device is a disk only when the engine granted it and the
    /// device rules allow the access the disk needs (Devices.swift).
    private static func openDisk(_ disk: DiskSpec, root: Int32, spec: ContainerSpec) throws(RuncError) -> Int32 {
        let what = "disk \(disk.name)"
        let access = disk.readOnly ? "r" : "rw"
        let grantHint = "podman run --device HOST-DEVICE:\(disk.path) grants one"
        func refused(_ number: DeviceNumber) -> String {
            let readOnlyHint = !disk.readOnly && spec.deviceRules.allowBlock(major: number.major, minor: number.minor, access: "r")
                ? "; it may be read: org.nabla.disk-readonly.\(disk.name)=true" : ""
            return "linux.resources.devices does not allow block device \(number) '\(access)'\(readOnlyHint)"
        }
        if let node = spec.devices.last(where: { $0.path == disk.path }) {
            guard node.type == "b" else {
                throw .bundle("\(what): \(disk.path) is not a block device in linux.devices (type \(node.type)): a disk is a regular file or a block device")
            }
            let number = DeviceNumber(major: node.major, minor: node.minor)
            guard spec.deviceRules.allowBlock(major: number.major, minor: number.minor, access: access) else {
                throw .notPermitted("\(what): \(disk.path) (linux.devices): \(refused(number))")
            }
            return try number.openHostNode()
        }
        let found = try openInContainer(disk.path, root: root, spec: spec, what: what)
        switch found.type {
        case S_IFREG:
            return found.fd
        case S_IFBLK where found.mount == nil:
            Glibc.close(found.fd)
            throw .notPermitted("\(what): \(found.shown) is a block device (\(found.device)) from the image; a disk from the image must be a regular file, and a host block device is a disk only when the engine grants it (\(grantHint))")
        case S_IFBLK:
            guard spec.deviceRules.allowBlock(major: found.device.major, minor: found.device.minor, access: access) else {
                Glibc.close(found.fd)
                throw .notPermitted("\(what): \(found.shown): \(refused(found.device)) (\(grantHint))")
            }
            return found.fd
        default:
            Glibc.close(found.fd)
            throw RuncError(.noInput, "\(what) \(found.shown) is not a regular file or block device")
        }
    }

    /// The tender's command line (README.md, "Using nabla-run").
    func tenderArguments(_ spec: ContainerSpec, guestArguments: [String], uplink: Uplink?) -> [String] {
        var arguments = ["nabla-run", "--mem", "\(spec.guestMemory >> 20)M"]
        if let uplink {
            if let name = solo5Networks?.first {   // the manifest's name for it
                arguments += ["--net:\(name)=\(NetworkWiring.tapName)", "--net-mac:\(name)=\(uplink.mac)"]
            } else {
                arguments += ["--net", NetworkWiring.tapName, "--net-mac", uplink.mac]
            }
        }
        for (disk, fd) in disks {
            arguments += [disk.readOnly ? "--disk-readonly" : "--disk", "\(disk.name)=/proc/self/fd/\(fd)"]
        }
        // process.env is the guest's environment (getenv), as for a process.
        // Solo5's ABI has no environment: a Solo5 image gets none (engines
        // always set PATH, so refusing would refuse every such image).
        if solo5Networks == nil {
            for variable in spec.environment { arguments += ["--env", variable] }
        }
        arguments.append("/proc/self/fd/\(image)")
        if let uplink { arguments += uplink.guestArguments(solo5: solo5Networks != nil) }
        return arguments + guestArguments
    }
}

/// The console-socket protocol: a pseudo-terminal whose master end goes
/// to the engine over a unix socket; the slave becomes the container's stdio.
enum Terminal {
    /// Returns the slave's descriptor.
    static func open(sendingTo socketPath: String) throws(RuncError) -> Int32 {
        var name = [CChar](repeating: 0, count: 128)
        let master = nrc_open_pty(&name, UInt(name.count))
        guard master >= 0 else { throw .system("cannot allocate a pseudo-terminal") }
        defer { close(master) }
        let slavePath = String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let slave = Glibc.open(slavePath, O_RDWR | O_NOCTTY | O_CLOEXEC)
        guard slave >= 0 else { throw .system("cannot open \(slavePath)") }
        let sock = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        defer { close(sock) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(socketPath.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
            close(slave)
            throw .usage("--console-socket path \(socketPath) is too long for a unix socket")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { for (i, b) in bytes.enumerated() { $0[i] = b } }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(sock, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard connected == 0, nrc_send_fd(sock, master, slavePath) == 0 else {
            let code = errno
            close(slave)
            throw .system("cannot hand the terminal to --console-socket \(socketPath)", errno: code)
        }
        return slave
    }
}
