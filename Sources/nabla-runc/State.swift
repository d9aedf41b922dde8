// State.swift: what nabla-runc remembers about a container, one folder per
// container under --root, and the OCI status derived from it.
//
//   ROOT/ID/state.json   the record below, replaced atomically on each change
//   ROOT/ID/exec.fifo    present from create until start (runc's pattern)
//
// The folder is locked (flock) by create, start and delete for as long as
// they run, so a second command waits instead of racing, and a crashed
// create is recognisable: a record with no pid and no lock holder.
//
// ROOT must be nabla-runc's user's own and writable by no one else, and
// ROOT/ID is opened with O_NOFOLLOW and used by descriptor (Directory), so
// a symlink planted there is refused rather than read, written or emptied.

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

    /// The --root directory (made, 0700, when `create` and missing; nil
    /// when missing otherwise). It must be a real directory of this user's
    /// that no one else can write: whoever can write it can plant folders
    /// and records that delete would act on.
    func rootDirectory(create: Bool) throws(RuncError) -> Directory? {
        if create { try FileSystem.makeDirectories(root, mode: 0o700) }
        guard let directory = Directory.open(root) else {
            if errno == ENOENT && !create { return nil }
            if errno == ELOOP || errno == ENOTDIR {
                throw RuncError(.notPermitted, "--root \(root) is a symlink or not a directory: nabla-runc keeps its state only in a real directory")
            }
            throw .system("cannot open --root \(root)")
        }
        var st = stat()
        guard fstat(directory.fd, &st) == 0 else {
            directory.close()
            throw .system("cannot inspect --root \(root)")
        }
        guard st.st_uid == geteuid(), st.st_mode & 0o022 == 0 else {
            directory.close()
            throw RuncError(.notPermitted, "--root \(root) is owned by uid \(st.st_uid) with mode \(String(st.st_mode & 0o7777, radix: 8)): nabla-runc keeps its state only in a directory of its own that no one else can write (chmod go-w \(root), or another --root)")
        }
        return directory
    }

    /// The folder of container `id`, opened without following a symlink;
    /// an error if there is no such container or the name is not a folder.
    func container(_ id: String) throws(RuncError) -> Directory {
        try Self.check(id: id)
        guard let root = try rootDirectory(create: false) else {
            throw .state("container does not exist: there is no container \(id) (\(self.root) does not exist)")
        }
        defer { root.close() }
        guard let folder = root.child(id) else {
            switch errno {
            case ENOENT:
                throw .state("container does not exist: there is no container \(id) in \(self.root)")
            case ELOOP, ENOTDIR:
                throw RuncError(.notPermitted, "\(directory(id)) is a symlink or a file, not a container's folder: nabla-runc does not follow it (remove it by hand)")
            default:
                throw .system("cannot open \(directory(id))")
            }
        }
        return folder
    }

    /// Whether ROOT has an entry named `id` (a folder, or anything planted
    /// there); throws if --root itself is not safe to use.
    func hasEntry(_ id: String) throws(RuncError) -> Bool {
        try Self.check(id: id)
        guard let root = try rootDirectory(create: false) else { return false }
        defer { root.close() }
        var st = stat()
        return fstatat(root.fd, id, &st, AT_SYMLINK_NOFOLLOW) == 0
    }

    /// Makes the container's folder, or fails if the id is taken.
    func makeDirectory(_ id: String) throws(RuncError) {
        guard let root = try rootDirectory(create: true) else { throw .system("cannot create --root \(self.root)", errno: ENOENT) }
        defer { root.close() }
        guard mkdirat(root.fd, id, 0o700) == 0 else {
            if errno == EEXIST { throw .state("container \(id) already exists (delete it with: nabla-runc delete --force \(id))") }
            throw .system("cannot create \(directory(id))")
        }
    }

    func save(_ record: ContainerRecord) throws(RuncError) {
        let folder = try container(record.id)
        defer { folder.close() }
        try folder.writeAtomically("state.json", Array((record.json.serialized + "\n").utf8))
    }

    /// The record of container `id`; an error if there is no such container.
    func load(_ id: String) throws(RuncError) -> ContainerRecord {
        let folder = try container(id)
        defer { folder.close() }
        guard let bytes = try folder.read("state.json") else {
            // A create that crashed before its first write: only the folder.
            return ContainerRecord(id: id, bundle: "", rootfs: "", annotations: [:])
        }
        guard let json = try? JSON.parse(bytes), let record = ContainerRecord(json) else {
            throw RuncError(.system, "the state of container \(id) in \(directory(id))/state.json is damaged; remove the folder by hand after checking no guest still runs")
        }
        return record
    }

    /// Removes the container's folder and what is in it, following no symlink.
    func remove(_ id: String) {
        guard let root = try? rootDirectory(create: false) else { return }
        root.removeTree(id)
        root.close()
    }

    /// Locks the container's folder for the life of the returned directory
    /// (closed on exec). `wait: false` returns nil if another holds it.
    func lock(_ id: String, wait: Bool = true) throws(RuncError) -> Directory? {
        let folder = try container(id)
        while flock(folder.fd, LOCK_EX | (wait ? 0 : LOCK_NB)) != 0 {
            if errno == EINTR { continue }
            let code = errno
            folder.close()
            if code == EWOULDBLOCK { return nil }
            throw .system("cannot lock \(directory(id))", errno: code)
        }
        return folder
    }

    /// The status, derived from the process and the exec fifo.
    /// `holdingLock`: the caller has the folder locked itself.
    func status(of record: ContainerRecord, holdingLock: Bool = false) -> ContainerStatus {
        guard let process = record.process else {
            // No process yet: a create in progress holds the lock; otherwise it crashed.
            if holdingLock { return .stopped }
            if let folder = try? lock(record.id, wait: false) {
                folder.close()
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
