// State.swift: what nabla-runc remembers about a container, one folder per
// container under --root, and the OCI status derived from it.
//
//   ROOT/ID/state.json   the record below, replaced atomically on each change
//   ROOT/ID/exec.fifo    present from create until start (runc's pattern)
//
// The folder is locked (flock) by create, start and delete for as long as
// they run, so a second command waits instead of racing, and a crashed
// create is recognisable: a record with no pid and no lock holder.

import Glibc

/// The OCI status of a container.
enum ContainerStatus: String {
    case creating, created, running, stopped
}

/// The persisted record of one container. Each resource is written here
/// before it is made, so `delete` can remove it even after a crash.
struct ContainerRecord: Equatable {
    var id: String
    var bundle: String
    var rootfs: String
    var created: String
    var annotations: [String: String]
    /// The container process (set once the init process exists).
    var process: ProcessIdentity?
    /// The network namespace the runtime joined by path, if it made
    /// anything inside it (a TAP and filters) that delete must remove.
    var joinedNetworkNamespace: String?
    /// The TAP interface made for the guest, and the interface wired to it.
    var tap: String?
    var uplink: String?
    /// cgroup directories made for the container, to remove on delete.
    var cgroups: [String]

    var json: JSON {
        var members: [(String, JSON)] = [
            ("id", .string(id)), ("bundle", .string(bundle)), ("rootfs", .string(rootfs)),
            ("created", .string(created)),
            ("annotations", .object(annotations.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) })),
            ("cgroups", .array(cgroups.map { .string($0) })),
        ]
        if let process {
            members.append(("pid", .number(Double(process.pid))))
            members.append(("startTime", .number(Double(process.startTime))))
        }
        if let joinedNetworkNamespace { members.append(("joinedNetworkNamespace", .string(joinedNetworkNamespace))) }
        if let tap { members.append(("tap", .string(tap))) }
        if let uplink { members.append(("uplink", .string(uplink))) }
        return .object(members)
    }

    init(id: String, bundle: String, rootfs: String, annotations: [String: String]) {
        self.id = id
        self.bundle = bundle
        self.rootfs = rootfs
        self.created = rfc3339Now()
        self.annotations = annotations
        self.cgroups = []
    }

    init?(_ json: JSON) {
        guard let id = json["id"]?.stringValue, let bundle = json["bundle"]?.stringValue,
              let rootfs = json["rootfs"]?.stringValue, let created = json["created"]?.stringValue else { return nil }
        self.id = id
        self.bundle = bundle
        self.rootfs = rootfs
        self.created = created
        annotations = [:]
        for (key, value) in json["annotations"]?.objectValue ?? [] { annotations[key] = value.stringValue }
        if let pid = json["pid"]?.integerValue, let start = json["startTime"]?.integerValue {
            process = ProcessIdentity(pid: pid_t(truncatingIfNeeded: pid), startTime: UInt64(start))
        }
        joinedNetworkNamespace = json["joinedNetworkNamespace"]?.stringValue
        tap = json["tap"]?.stringValue
        uplink = json["uplink"]?.stringValue
        cgroups = (json["cgroups"]?.arrayValue ?? []).compactMap(\.stringValue)
    }
}

/// The --root directory: one folder per container.
struct StateStore {
    static let defaultRoot = "/run/nabla-runc"
    let root: String

    /// Container ids: what runc allows, which keeps them safe as file and
    /// interface name parts.
    static func check(id: String) throws(RuncError) {
        guard !id.isEmpty, id.utf8.count <= 1024, id != ".", id != "..",
              id.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x41 && $0 <= 0x5a) || ($0 >= 0x61 && $0 <= 0x7a) || $0 == 0x2e || $0 == 0x5f || $0 == 0x2b || $0 == 0x2d })
        else {
            throw .usage("invalid container id '\(id)': use letters, digits, '.', '_', '+' and '-'")
        }
    }

    func directory(_ id: String) -> String { root + "/" + id }
    func fifo(_ id: String) -> String { directory(id) + "/exec.fifo" }

    /// Makes the container's folder, or fails if the id is taken.
    func makeDirectory(_ id: String) throws(RuncError) {
        try FileSystem.makeDirectories(root, mode: 0o700)
        guard mkdir(directory(id), 0o700) == 0 else {
            if errno == EEXIST { throw .state("container \(id) already exists (delete it with: nabla-runc delete --force \(id))") }
            throw .system("cannot create \(directory(id))")
        }
    }

    func save(_ record: ContainerRecord) throws(RuncError) {
        try FileSystem.writeAtomically(directory(record.id) + "/state.json", Array((record.json.serialized + "\n").utf8))
    }

    /// The record of container `id`; an error if there is no such container.
    func load(_ id: String) throws(RuncError) -> ContainerRecord {
        try Self.check(id: id)
        guard FileSystem.exists(directory(id)) else {
            throw .state("container \(id) does not exist (\(root) has no folder for it)")
        }
        guard let bytes = try FileSystem.read(directory(id) + "/state.json") else {
            // A create that crashed before its first write: only the folder.
            return ContainerRecord(id: id, bundle: "", rootfs: "", annotations: [:])
        }
        guard let json = try? JSON.parse(bytes), let record = ContainerRecord(json) else {
            throw RuncError(.system, "the state of container \(id) in \(directory(id))/state.json is damaged; remove the folder by hand after checking no guest still runs")
        }
        return record
    }

    /// Locks the container's folder for the life of the returned descriptor
    /// (closed on exec). `wait: false` returns nil if another holds it.
    func lock(_ id: String, wait: Bool = true) throws(RuncError) -> Int32? {
        let fd = open(directory(id), O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else {
            if errno == ENOENT { throw .state("container \(id) does not exist") }
            throw .system("cannot open \(directory(id))")
        }
        while flock(fd, LOCK_EX | (wait ? 0 : LOCK_NB)) != 0 {
            if errno == EINTR { continue }
            close(fd)
            if errno == EWOULDBLOCK { return nil }
            throw .system("cannot lock \(directory(id))")
        }
        return fd
    }

    /// The status, derived from the process and the exec fifo.
    /// `holdingLock`: the caller has the folder locked itself.
    func status(of record: ContainerRecord, holdingLock: Bool = false) -> ContainerStatus {
        guard let process = record.process else {
            // No process yet: a create in progress holds the lock; otherwise it crashed.
            if holdingLock { return .stopped }
            if let fd = try? lock(record.id, wait: false) {
                close(fd)
                return .stopped
            }
            return .creating
        }
        guard process.isAlive else { return .stopped }
        return FileSystem.exists(fifo(record.id)) ? .created : .running
    }

    /// The OCI state document (runtime-spec "State"), as `state` prints it.
    func ociState(of record: ContainerRecord) -> JSON {
        let status = status(of: record)
        let pid = (status == .created || status == .running) ? record.process?.pid ?? 0 : 0
        return .object([
            ("ociVersion", .string("1.0.2")),
            ("id", .string(record.id)),
            ("pid", .number(Double(pid))),
            ("status", .string(status.rawValue)),
            ("bundle", .string(record.bundle)),
            ("rootfs", .string(record.rootfs)),
            ("created", .string(record.created)),
            ("owner", .string("")),
            ("annotations", .object(record.annotations.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) })),
        ])
    }
}
