// Spec.swift: the parts of an OCI bundle's config.json that nabla-runc
// uses, read into typed values. Anything it cannot honour faithfully
// (user namespaces, hooks) is refused here, before anything is made.

import Glibc

/// An OCI namespace entry: a kind, and a path to join (nil: a new one).
struct NamespaceSpec: Equatable {
    enum Kind: String, CaseIterable {
        case pid, network, mount, ipc, uts, user, cgroup, time
    }
    let kind: Kind
    let path: String?
}

/// One `process.rlimits` entry.
struct RlimitSpec: Equatable {
    let resource: Int32
    let name: String
    let soft: UInt64
    let hard: UInt64
}

/// `process.capabilities` as bit masks (bit N is capability N).
struct CapabilitySets: Equatable {
    var bounding: UInt64 = 0
    var effective: UInt64 = 0
    var permitted: UInt64 = 0
    var inheritable: UInt64 = 0
}

/// A disk for the guest, from the annotations.
struct DiskSpec: Equatable {
    /// The name the guest finds it by.
    let name: String
    /// The path inside the container (the rootfs, or a bind mount).
    let path: String
    let readOnly: Bool
}

/// What the container's process is.
enum Workload: Equatable {
    /// A nabla guest: the image path inside the container, as written in
    /// process.args[0] (made absolute against cwd), and the guest's arguments.
    case guest(image: String, arguments: [String])
    /// A pod's sandbox container (PodSandbox.swift): nabla-runc's own
    /// pause holds the namespaces; process.args and the rootfs are unused.
    case podSandbox
}

/// What nabla-runc takes from config.json.
struct ContainerSpec {
    static let annotationPrefix = "org.nabla."
    /// The guest memory when the spec sets no memory limit (the tender's own default).
    static let defaultMemory: UInt64 = 64 << 20
    /// Of a memory limit, what the tender itself may use; the guest gets the rest.
    static let tenderReserve: UInt64 = 8 << 20
    /// The smallest memory limit nabla-runc accepts.
    static let minimumMemoryLimit: UInt64 = 16 << 20

    var ociVersion: String
    var workload: Workload
    var environment: [String]
    var cwd: String
    var terminal: Bool
    var uid: UInt32
    var gid: UInt32
    var additionalGids: [UInt32]
    var rlimits: [RlimitSpec]
    var noNewPrivileges: Bool
    var capabilities: CapabilitySets?
    /// root.path made absolute against the bundle.
    var rootfs: String
    var hostname: String?
    var namespaces: [NamespaceSpec]
    var cgroupsPath: String?
    /// Bytes, from linux.resources.memory.limit.
    var memoryLimit: UInt64?
    var pidsLimit: Int64?
    var annotations: [(String, String)]
    var mounts: [MountSpec]
    /// linux.devices: the device nodes the engine grants the container.
    var devices: [DeviceNode]
    /// linux.resources.devices: the device cgroup's rules.
    var deviceRules: DeviceRules
    var disks: [DiskSpec]
    /// False when the annotation org.nabla.network is "none".
    var wantsNetwork: Bool

    /// The guest's memory: a limit minus the tender's reserve, or the default.
    var guestMemory: UInt64 {
        guard let limit = memoryLimit else { return Self.defaultMemory }
        return (limit - Self.tenderReserve) & ~((1 << 20) - 1)
    }

    func namespace(_ kind: NamespaceSpec.Kind) -> NamespaceSpec? { namespaces.first { $0.kind == kind } }
}

/// One entry of `mounts`: nabla-runc mounts nothing, but a bind mount can
/// be where a disk comes from, and its "ro" makes the disk read-only.
struct MountSpec: Equatable {
    let destination: String
    let source: String
    let type: String
    let options: [String]
    var isBind: Bool { type == "bind" || options.contains("bind") || options.contains("rbind") }
    var isReadOnly: Bool { options.contains("ro") }
}

extension ContainerSpec {
    /// Reads and checks `bundle`/config.json.
    static func load(bundle: String) throws(RuncError) -> ContainerSpec {
        let path = bundle + "/config.json"
        guard let bytes = try FileSystem.read(path) else {
            throw RuncError(.noInput, "\(path) does not exist: a bundle is a directory with config.json and a rootfs")
        }
        let document: JSON
        do { document = try JSON.parse(bytes) } catch {
            throw RuncError.bundle("\(path) is not valid JSON: \(error)")
        }
        return try ContainerSpec(document, bundle: bundle)
    }

    init(_ document: JSON, bundle: String) throws(RuncError) {
        let reader = SpecReader()
        guard case .object = document else { throw .bundle("config.json: the document must be an object") }
        ociVersion = try reader.string(document["ociVersion"], "ociVersion")
        guard let process = document["process"] else { throw .bundle("config.json: process is missing") }
        let args = try reader.strings(process["args"], "process.args")
        let annotationsObject = document["annotations"]?.objectValue ?? []
        let isPodSandbox = PodSandbox.annotations.contains { (key, value) in
            annotationsObject.last { $0.0 == key }?.1.stringValue == value
        }
        cwd = try reader.optionalString(process["cwd"], "process.cwd") ?? "/"
        if isPodSandbox {
            workload = .podSandbox
        } else {
            guard let first = args.first, !first.isEmpty else {
                throw .bundle("config.json: process.args is empty: its first element must be the guest image, for example /app.nabla")
            }
            guard first.hasSuffix(".nabla") || first.hasSuffix(".spt") else {
                throw .bundle("config.json: process.args[0] '\(first)' is not a nabla image: nabla-runc runs unikernels, and the first argument must be a .nabla file in the image (CMD [\"/app.nabla\"])")
            }
            let image = first.hasPrefix("/") ? first : (cwd.hasSuffix("/") ? cwd : cwd + "/") + first
            workload = .guest(image: image, arguments: Array(args.dropFirst()))
        }
        environment = try process["env"].map { value throws(RuncError) in try reader.strings(value, "process.env") } ?? []
        // Each becomes a --env of the tender, and the guest's environment.
        for (index, variable) in environment.enumerated() where variable.firstIndex(of: "=").map({ $0 == variable.startIndex }) ?? true {
            throw .bundle("config.json: process.env[\(index)] '\(variable)' is not KEY=VALUE")
        }
        terminal = try reader.optionalBool(process["terminal"], "process.terminal") ?? false
        if let user = process["user"] {
            uid = try reader.uint32(user["uid"], "process.user.uid")
            gid = try reader.uint32(user["gid"], "process.user.gid")
            additionalGids = try (user["additionalGids"]?.arrayValue ?? []).enumerated().map { (i, value) throws(RuncError) in
                try reader.uint32(value, "process.user.additionalGids[\(i)]")
            }
        } else {
            uid = 0; gid = 0; additionalGids = []
        }
        rlimits = try (process["rlimits"].map { value throws(RuncError) in try reader.array(value, "process.rlimits") } ?? [])
            .enumerated().map { (i, value) throws(RuncError) in try reader.rlimit(value, "process.rlimits[\(i)]") }
        noNewPrivileges = try reader.optionalBool(process["noNewPrivileges"], "process.noNewPrivileges") ?? false
        capabilities = try process["capabilities"].map { value throws(RuncError) in try reader.capabilities(value) }

        guard let root = document["root"] else { throw .bundle("config.json: root is missing") }
        let rootPath = try reader.string(root["path"], "root.path")
        rootfs = FileSystem.absolute(rootPath.hasPrefix("/") ? rootPath : bundle + "/" + rootPath)
        hostname = try reader.optionalString(document["hostname"], "hostname")

        if let hooks = document["hooks"]?.objectValue, hooks.contains(where: { !($0.1.arrayValue ?? []).isEmpty }) {
            throw .unsupported("config.json: hooks are not supported: nabla-runc runs no host programs on the container's behalf")
        }

        let linux = document["linux"]
        namespaces = try (linux?["namespaces"].map { value throws(RuncError) in try reader.array(value, "linux.namespaces") } ?? [])
            .enumerated().map { (i, value) throws(RuncError) in try reader.namespace(value, "linux.namespaces[\(i)]") }
        if let user = namespaces.first(where: { $0.kind == .user }) {
            throw .unsupported("config.json: user namespaces are not supported (\(user.path.map { "joining \($0)" } ?? "a new one")): run the container without --userns, as root")
        }
        if namespaces.contains(where: { $0.kind == .time }) {
            throw .unsupported("config.json: time namespaces are not supported")
        }
        cgroupsPath = try reader.optionalString(linux?["cgroupsPath"], "linux.cgroupsPath")
        let resources = linux?["resources"]
        if let limit = resources?["memory"]?["limit"], limit != .null {
            guard let bytes = limit.integerValue else { throw .bundle("config.json: linux.resources.memory.limit must be an integer") }
            if bytes > 0 {
                // The minimum is the tender's; the pause needs no such room.
                guard UInt64(bytes) >= Self.minimumMemoryLimit || isPodSandbox else {
                    throw .bundle("config.json: memory limit \(bytes) bytes is below the minimum of \(Self.minimumMemoryLimit >> 20) MiB (\(Self.tenderReserve >> 20) MiB of it is the tender's own)")
                }
                memoryLimit = UInt64(bytes)
            }
        }
        if let limit = resources?["pids"]?["limit"], limit != .null {
            guard let value = limit.integerValue else { throw .bundle("config.json: linux.resources.pids.limit must be an integer") }
            pidsLimit = value > 0 ? value : nil
        }

        devices = try (linux?["devices"].map { value throws(RuncError) in try reader.array(value, "linux.devices") } ?? [])
            .enumerated().map { (i, value) throws(RuncError) in try reader.deviceNode(value, "linux.devices[\(i)]") }
        deviceRules = DeviceRules(try (resources?["devices"].map { value throws(RuncError) in try reader.array(value, "linux.resources.devices") } ?? [])
            .enumerated().map { (i, value) throws(RuncError) in try reader.deviceRule(value, "linux.resources.devices[\(i)]") })

        mounts = try (document["mounts"].map { value throws(RuncError) in try reader.array(value, "mounts") } ?? [])
            .enumerated().map { (i, value) throws(RuncError) in try reader.mount(value, "mounts[\(i)]") }

        annotations = try annotationsObject.map { (key, value) throws(RuncError) in
            guard let text = value.stringValue else { throw .bundle("config.json: annotation \(key) must be a string") }
            return (key, text)
        }
        var disks: [DiskSpec] = []
        var wantsNetwork = true
        for (key, value) in annotations where key.hasPrefix(Self.annotationPrefix) {
            let rest = String(key.dropFirst(Self.annotationPrefix.count))
            if rest.hasPrefix("disk.") {
                let name = String(rest.dropFirst("disk.".count))
                guard isValidDeviceName(name) else {
                    throw .bundle("annotation \(key): '\(name)' is not a valid disk name (1 to 31 characters from A-Z a-z 0-9 . _ -)")
                }
                guard value.hasPrefix("/") else { throw .bundle("annotation \(key): '\(value)' must be an absolute path inside the container") }
                let flag = annotations.last { $0.0 == Self.annotationPrefix + "disk-readonly." + name }?.1
                guard flag == nil || flag == "true" || flag == "false" else {
                    throw .bundle("annotation \(Self.annotationPrefix)disk-readonly.\(name): '\(flag!)' must be true or false")
                }
                let mountReadOnly = Self.bindMount(covering: value, in: mounts)?.isReadOnly ?? false
                disks.append(DiskSpec(name: name, path: value, readOnly: flag == "true" || mountReadOnly))
            } else if rest.hasPrefix("disk-readonly.") {
                let name = String(rest.dropFirst("disk-readonly.".count))
                guard annotations.contains(where: { $0.0 == Self.annotationPrefix + "disk." + name }) else {
                    throw .bundle("annotation \(key): there is no disk \(name) (add \(Self.annotationPrefix)disk.\(name)=PATH)")
                }
            } else if rest == "network" {
                guard value == "none" || value == "auto" else { throw .bundle("annotation \(key): '\(value)' must be none or auto") }
                wantsNetwork = value == "auto"
            } else {
                throw .bundle("unknown annotation \(key): nabla-runc knows \(Self.annotationPrefix)disk.NAME, \(Self.annotationPrefix)disk-readonly.NAME and \(Self.annotationPrefix)network")
            }
        }
        self.disks = disks
        self.wantsNetwork = wantsNetwork
    }
}

extension ContainerSpec {
    /// The bind mount through which the container sees `path`: the deepest
    /// one that covers it; nil if `path` is in the rootfs.
    func bindMount(covering path: String) -> MountSpec? { Self.bindMount(covering: path, in: mounts) }

    static func bindMount(covering path: String, in mounts: [MountSpec]) -> MountSpec? {
        mounts.filter { $0.isBind && $0.covers(path) }.max { $0.destination.count < $1.destination.count }
    }
}

extension MountSpec {
    /// Whether `path` is this mount's destination or inside it.
    func covers(_ path: String) -> Bool {
        let destination = destination.hasSuffix("/") ? String(destination.dropLast()) : destination
        return path == destination || path.hasPrefix(destination + "/")
    }
}

/// The tender's device-name rule: 1 to 31 characters from A-Z a-z 0-9 . _ -.
func isValidDeviceName(_ name: String) -> Bool {
    !name.isEmpty && name.utf8.count < 32 && name.utf8.allSatisfy {
        ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x41 && $0 <= 0x5a) || ($0 >= 0x61 && $0 <= 0x7a) || $0 == 0x2e || $0 == 0x5f || $0 == 0x2d
    }
}

/// Typed accessors that name the field in their errors.
private struct SpecReader {
    func string(_ value: JSON?, _ field: String) throws(RuncError) -> String {
        guard let value else { throw .bundle("config.json: \(field) is missing") }
        guard let text = value.stringValue else { throw .bundle("config.json: \(field) must be a string") }
        return text
    }

    func optionalString(_ value: JSON?, _ field: String) throws(RuncError) -> String? {
        guard let value, value != .null else { return nil }
        return try string(value, field)
    }

    func optionalBool(_ value: JSON?, _ field: String) throws(RuncError) -> Bool? {
        guard let value, value != .null else { return nil }
        guard let flag = value.boolValue else { throw .bundle("config.json: \(field) must be true or false") }
        return flag
    }

    func array(_ value: JSON, _ field: String) throws(RuncError) -> [JSON] {
        guard let items = value.arrayValue else { throw .bundle("config.json: \(field) must be an array") }
        return items
    }

    func strings(_ value: JSON?, _ field: String) throws(RuncError) -> [String] {
        guard let value else { throw .bundle("config.json: \(field) is missing") }
        return try array(value, field).enumerated().map { (i, item) throws(RuncError) in try string(item, "\(field)[\(i)]") }
    }

    func uint32(_ value: JSON?, _ field: String) throws(RuncError) -> UInt32 {
        guard let value else { throw .bundle("config.json: \(field) is missing") }
        guard let number = value.integerValue, number >= 0, number <= Int64(UInt32.max) else {
            throw .bundle("config.json: \(field) must be an integer from 0 to \(UInt32.max)")
        }
        return UInt32(number)
    }

    func uint64(_ value: JSON?, _ field: String) throws(RuncError) -> UInt64 {
        guard let value else { throw .bundle("config.json: \(field) is missing") }
        // JSON numbers are doubles here: 2^64-1 (RLIM_INFINITY) arrives as 2^64.
        guard case .number(let d) = value, d >= 0, d.rounded() == d else {
            throw .bundle("config.json: \(field) must be a non-negative integer")
        }
        return d >= 18446744073709549568.0 ? UInt64.max : UInt64(d)
    }

    static let rlimitResources: [String: Int32] = [
        "RLIMIT_AS": 9, "RLIMIT_CORE": 4, "RLIMIT_CPU": 0, "RLIMIT_DATA": 2, "RLIMIT_FSIZE": 1,
        "RLIMIT_LOCKS": 10, "RLIMIT_MEMLOCK": 8, "RLIMIT_MSGQUEUE": 12, "RLIMIT_NICE": 13,
        "RLIMIT_NOFILE": 7, "RLIMIT_NPROC": 6, "RLIMIT_RSS": 5, "RLIMIT_RTPRIO": 14,
        "RLIMIT_RTTIME": 15, "RLIMIT_SIGPENDING": 11, "RLIMIT_STACK": 3,
    ]

    func rlimit(_ value: JSON, _ field: String) throws(RuncError) -> RlimitSpec {
        let type = try string(value["type"], field + ".type")
        guard let resource = Self.rlimitResources[type] else { throw .bundle("config.json: \(field).type '\(type)' is not an RLIMIT_ name") }
        let soft = try uint64(value["soft"], field + ".soft")
        let hard = try uint64(value["hard"], field + ".hard")
        guard soft <= hard else { throw .bundle("config.json: \(field): soft limit \(soft) is above the hard limit \(hard)") }
        return RlimitSpec(resource: resource, name: type, soft: soft, hard: hard)
    }

    func namespace(_ value: JSON, _ field: String) throws(RuncError) -> NamespaceSpec {
        let type = try string(value["type"], field + ".type")
        guard let kind = NamespaceSpec.Kind(rawValue: type) else { throw .bundle("config.json: \(field).type '\(type)' is not a namespace type") }
        let path = try optionalString(value["path"], field + ".path")
        return NamespaceSpec(kind: kind, path: path?.isEmpty == true ? nil : path)
    }

    func mount(_ value: JSON, _ field: String) throws(RuncError) -> MountSpec {
        MountSpec(destination: try string(value["destination"], field + ".destination"),
                  source: try optionalString(value["source"], field + ".source") ?? "",
                  type: try optionalString(value["type"], field + ".type") ?? "",
                  options: try value["options"].map { v throws(RuncError) in try strings(v, field + ".options") } ?? [])
    }

    func deviceNode(_ value: JSON, _ field: String) throws(RuncError) -> DeviceNode {
        let path = try string(value["path"], field + ".path")
        let type = try string(value["type"], field + ".type")
        guard ["b", "c", "u", "p"].contains(type) else { throw .bundle("config.json: \(field).type '\(type)' must be b, c, u or p") }
        let major = value["major"]?.integerValue, minor = value["minor"]?.integerValue
        guard type == "p" || (major != nil && minor != nil) else {
            throw .bundle("config.json: \(field) needs integer major and minor numbers")
        }
        return DeviceNode(path: path, type: type, major: major ?? 0, minor: minor ?? 0)
    }

    func deviceRule(_ value: JSON, _ field: String) throws(RuncError) -> DeviceRule {
        guard let allow = value["allow"]?.boolValue else { throw .bundle("config.json: \(field).allow must be true or false") }
        let type = try optionalString(value["type"], field + ".type") ?? "a"
        guard ["a", "b", "c"].contains(type) else { throw .bundle("config.json: \(field).type '\(type)' must be a, b or c") }
        func number(_ key: String) throws(RuncError) -> Int64? {
            guard let item = value[key], item != .null else { return nil }
            guard let number = item.integerValue else { throw .bundle("config.json: \(field).\(key) must be an integer") }
            return number < 0 ? nil : number   // -1: any, as runc writes it
        }
        let access = try optionalString(value["access"], field + ".access") ?? "rwm"
        guard !access.isEmpty, access.allSatisfy({ "rwm".contains($0) }) else {
            throw .bundle("config.json: \(field).access '\(access)' must be letters from r, w and m")
        }
        return DeviceRule(allow: allow, type: type, major: try number("major"), minor: try number("minor"), access: access)
    }

    static let capabilityNames = [
        "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL",
        "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE",
        "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER",
        "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE", "CAP_SYS_PACCT",
        "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE", "CAP_SYS_RESOURCE", "CAP_SYS_TIME",
        "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE", "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL",
        "CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM",
        "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
    ]

    func capabilities(_ value: JSON) throws(RuncError) -> CapabilitySets {
        func mask(_ key: String) throws(RuncError) -> UInt64 {
            guard let list = value[key], list != .null else { return 0 }
            var bits: UInt64 = 0
            for name in try strings(list, "process.capabilities." + key) {
                guard let bit = Self.capabilityNames.firstIndex(of: name) else {
                    throw .bundle("config.json: process.capabilities.\(key): unknown capability \(name)")
                }
                bits |= 1 << UInt64(bit)
            }
            return bits
        }
        return CapabilitySets(bounding: try mask("bounding"), effective: try mask("effective"),
                              permitted: try mask("permitted"), inheritable: try mask("inheritable"))
    }
}
