// Init.swift: the container's first process, between create and start.
//
// create starts `nabla-runc init FD` with one end of a socket pair at FD.
// init reads its plan (one JSON line), enters the namespaces the spec asks
// for, applies rlimits, the user, capabilities and no_new_privs, answers
// "ok" (or the error), then blocks opening the exec fifo for writing. When
// start opens the read end, init writes a byte and execs the tender from
// the descriptor create opened, so the tender keeps init's pid; for a pod's
// sandbox it becomes the pause instead (PodSandbox.swift).

import CNablaRunc
import Glibc

/// What create tells init.
struct InitPlan {
    let bundle: String
    /// The exec fifo, opened O_PATH.
    let fifoFD: Int32
    /// What runs after start: the tender, or (nil) a pod sandbox's pause.
    let tender: TenderLaunch?
    /// Lines for the container's stderr once it is started (MountNotices).
    let notices: [String]

    var json: JSON {
        .object([
            ("bundle", .string(bundle)),
            ("fifoFD", .number(Double(fifoFD))),
            ("tender", tender?.json ?? .null),
            ("notices", .array(notices.map { .string($0) })),
        ])
    }

    init(bundle: String, fifoFD: Int32, tender: TenderLaunch?, notices: [String]) {
        self.bundle = bundle
        self.fifoFD = fifoFD
        self.tender = tender
        self.notices = notices
    }

    init?(_ json: JSON) {
        guard let bundle = json["bundle"]?.stringValue, let fifo = json["fifoFD"]?.integerValue,
              let notices = json["notices"]?.arrayValue?.compactMap(\.stringValue) else { return nil }
        var tender: TenderLaunch?
        if let launch = json["tender"], launch != .null {
            guard let parsed = TenderLaunch(launch) else { return nil }
            tender = parsed
        }
        self.init(bundle: bundle, fifoFD: Int32(truncatingIfNeeded: fifo), tender: tender, notices: notices)
    }
}

/// How init becomes the tender.
struct TenderLaunch {
    /// The tender's argv, argv[0] first.
    let arguments: [String]
    let environment: [String]
    /// nabla-run, opened O_PATH.
    let tenderFD: Int32
    /// The image and disks: left open across exec for /proc/self/fd/N.
    let keepFDs: [Int32]

    var json: JSON {
        .object([
            ("arguments", .array(arguments.map { .string($0) })),
            ("environment", .array(environment.map { .string($0) })),
            ("tenderFD", .number(Double(tenderFD))),
            ("keepFDs", .array(keepFDs.map { .number(Double($0)) })),
        ])
    }

    init(arguments: [String], environment: [String], tenderFD: Int32, keepFDs: [Int32]) {
        self.arguments = arguments
        self.environment = environment
        self.tenderFD = tenderFD
        self.keepFDs = keepFDs
    }

    init?(_ json: JSON) {
        guard let arguments = json["arguments"]?.arrayValue?.compactMap(\.stringValue),
              let environment = json["environment"]?.arrayValue?.compactMap(\.stringValue),
              let tender = json["tenderFD"]?.integerValue,
              let keep = json["keepFDs"]?.arrayValue?.compactMap(\.integerValue) else { return nil }
        self.init(arguments: arguments, environment: environment, tenderFD: Int32(truncatingIfNeeded: tender),
                  keepFDs: keep.map { Int32(truncatingIfNeeded: $0) })
    }
}

/// The socket between create and init: newline-terminated messages.
struct InitChannel {
    let fd: Int32

    func send(_ plan: InitPlan) throws(RuncError) {
        try sendLine(plan.json.serialized)
    }

    func sendLine(_ line: String) throws(RuncError) {
        let bytes = Array((line + "\n").utf8)
        var sent = 0
        while sent < bytes.count {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + sent, $0.count - sent) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw .system("cannot talk to the container's init process") }
            sent += n
        }
    }

    /// One line, or nil at end of file. Each side sends one line and then
    /// nothing but end of file, so reading ahead loses nothing.
    func receiveLine() -> String? {
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while !bytes.contains(0x0a) {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            bytes += buffer[0..<n]
        }
        guard !bytes.isEmpty else { return nil }
        return String(decoding: bytes.prefix { $0 != 0x0a }, as: UTF8.self)
    }

    /// Waits for init's answer: "ok", or "error STATUS MESSAGE".
    func awaitReady() throws(RuncError) {
        guard let line = receiveLine() else {
            throw RuncError(.system, "the container's init process exited before it was ready")
        }
        guard line != "ok" else { return }
        let parts = line.split(separator: " ", maxSplits: 2).map(String.init)
        guard parts.count == 3, parts[0] == "error", let code = Int32(parts[1]), let status = ExitStatus(rawValue: code) else {
            throw RuncError(.system, "unexpected answer from the container's init process: \(line)")
        }
        throw RuncError(status, parts[2])
    }
}

/// The init process itself.
struct ContainerInit {
    let syncFD: Int32

    /// Never returns: execs the tender, or exits.
    func run() -> Never {
        let channel = InitChannel(fd: syncFD)
        // No plan: create died or failed before sending one.
        guard let line = channel.receiveLine() else { exit(1) }
        let plan: InitPlan
        do throws(RuncError) {
            guard let parsed = (try? JSON.parse(Array(line.utf8))).flatMap(InitPlan.init) else {
                throw RuncError(.system, "the init process received a malformed plan")
            }
            plan = parsed
            try prepare(ContainerSpec.load(bundle: plan.bundle))
            try channel.sendLine("ok")
        } catch {
            _ = try? channel.sendLine("error \(error.status.rawValue) \(error.description)")
            exit(1)
        }
        close(syncFD)

        // Blocks until start opens the other end.
        let fifo = open("/proc/self/fd/\(plan.fifoFD)", O_WRONLY | O_CLOEXEC)
        guard fifo >= 0, write(fifo, "0", 1) == 1 else { fail("cannot open the exec fifo", status: 127) }
        close(fifo)
        close(plan.fifoFD)

        for line in plan.notices {
            let text = "nabla-runc: " + line + "\n"
            _ = text.withCString { write(2, $0, strlen($0)) }
        }
        guard let tender = plan.tender else { PodSandbox.pause() }

        // Only stdio and the guest's files cross into the tender.
        _ = nrc_cloexec_from(3)
        for fd in tender.keepFDs { _ = fcntl(fd, F_SETFD, 0) }
        let argv = tender.arguments.map { strdup($0) } + [nil]
        let envp = tender.environment.map { strdup($0) } + [nil]
        _ = nrc_execveat(tender.tenderFD, argv, envp)
        fail("cannot exec the tender nabla-run", status: 126)
    }

    /// Namespaces, hostname, rlimits, working directory, user,
    /// capabilities, no_new_privs: everything that needs the spec.
    private func prepare(_ spec: ContainerSpec) throws(RuncError) {
        let flags: [(NamespaceSpec.Kind, Int32)] = [(.mount, CLONE_NEWNS), (.uts, CLONE_NEWUTS), (.ipc, CLONE_NEWIPC), (.cgroup, CLONE_NEWCGROUP)]
        for (kind, flag) in flags {
            guard let namespace = spec.namespace(kind) else { continue }
            if let path = namespace.path {
                let fd = open(path, O_RDONLY | O_CLOEXEC)
                guard fd >= 0 else { throw RuncError(.noInput, "cannot open \(kind.rawValue) namespace \(path): \(RuncError.errnoText(errno))") }
                defer { close(fd) }
                guard nrc_setns(fd, flag) == 0 else { throw .system("cannot join \(kind.rawValue) namespace \(path)") }
            } else {
                guard nrc_unshare(flag) == 0 else { throw .system("cannot create a \(kind.rawValue) namespace") }
                if kind == .mount {
                    // Nothing is mounted for a guest, but nothing this
                    // namespace ever mounts may propagate back to the host.
                    guard mount("none", "/", nil, UInt(MS_REC | MS_SLAVE), nil) == 0 else { throw .system("cannot make / a slave mount") }
                }
                if kind == .uts, let hostname = spec.hostname {
                    guard sethostname(hostname, hostname.utf8.count) == 0 else { throw .system("cannot set the hostname to \(hostname)") }
                }
            }
        }
        for limit in spec.rlimits {
            var value = rlimit(rlim_cur: rlim_t(limit.soft), rlim_max: rlim_t(limit.hard))
            guard setrlimit(__rlimit_resource_t(UInt32(limit.resource)), &value) == 0 else {
                throw .system("cannot set \(limit.name) to soft \(limit.soft), hard \(limit.hard)")
            }
        }
        if spec.terminal {
            guard nrc_set_controlling_terminal(0) == 0 else { throw .system("cannot make the terminal the controlling one") }
        }
        guard chdir(spec.rootfs) == 0 else { throw .system("cannot change directory to \(spec.rootfs)") }
        // A non-root user loses every capability at setuid; only the
        // bounding set is left to narrow, and that needs doing first.
        if let capabilities = spec.capabilities, spec.uid != 0 {
            guard nrc_drop_bounding(capabilities.bounding) == 0 else { throw .system("cannot narrow the capability bounding set") }
        }
        if spec.uid != 0 || spec.gid != 0 || !spec.additionalGids.isEmpty {
            let groups = spec.additionalGids.map { gid_t($0) }
            guard setgroups(groups.count, groups) == 0 else { throw .system("cannot set the supplementary groups") }
            guard setgid(gid_t(spec.gid)) == 0 else { throw .system("cannot set gid \(spec.gid)") }
            guard setuid(uid_t(spec.uid)) == 0 else { throw .system("cannot set uid \(spec.uid)") }
        }
        if let capabilities = spec.capabilities, spec.uid == 0 {
            guard nrc_limit_capabilities(capabilities.bounding, capabilities.effective,
                                         capabilities.permitted, capabilities.inheritable) == 0 else {
                throw .system("cannot set the capabilities")
            }
        }
        if spec.noNewPrivileges {
            guard nrc_set_no_new_privs() == 0 else { throw .system("cannot set no_new_privs") }
        }
    }

    private func fail(_ what: String, status: Int32) -> Never {
        let line = "nabla-runc: \(what): \(RuncError.errnoText(errno))\n"
        _ = line.withCString { write(2, $0, strlen($0)) }
        exit(status)
    }
}
