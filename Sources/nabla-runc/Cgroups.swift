// Cgroups.swift: putting the container in linux.cgroupsPath with the
// cgroupfs driver, on cgroup v1, v2, and the hybrid of both (v1
// controllers plus a v2 hierarchy at /sys/fs/cgroup/unified), as runc does:
// the path is made in every mounted hierarchy and the process joins each.

import Glibc

/// One mounted cgroup hierarchy.
struct CgroupHierarchy: Equatable {
    /// Where it is mounted.
    let mountPoint: String
    /// The v1 controllers on it ("memory", "cpu,cpuacct", "name=systemd"); empty for v2.
    let controllers: [String]
    var isV2: Bool { controllers.isEmpty }

    /// The hierarchies mounted in this mount namespace, from /proc/self/mountinfo.
    static func mounted() -> [CgroupHierarchy] {
        guard let bytes = try? FileSystem.read("/proc/self/mountinfo") else { return [] }
        var found: [CgroupHierarchy] = []
        for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") {
            // ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPER
            let fields = line.split(separator: " ").map(String.init)
            guard let dash = fields.firstIndex(of: "-"), dash + 3 < fields.count, fields.count > 4 else { continue }
            let type = fields[dash + 1], mountPoint = unescapeMountPath(fields[4])
            if type == "cgroup2" {
                found.append(CgroupHierarchy(mountPoint: mountPoint, controllers: []))
            } else if type == "cgroup" {
                let known = ["cpu", "cpuacct", "cpuset", "memory", "devices", "freezer", "net_cls", "net_prio",
                             "blkio", "perf_event", "hugetlb", "pids", "rdma", "misc"]
                let controllers = fields[dash + 3].split(separator: ",").map(String.init)
                    .filter { known.contains($0) || $0.hasPrefix("name=") }
                if !controllers.isEmpty { found.append(CgroupHierarchy(mountPoint: mountPoint, controllers: controllers)) }
            }
        }
        // One entry per hierarchy (the same one can be mounted twice).
        var seen: Set<[String]> = []
        return found.filter { seen.insert($0.controllers.isEmpty ? ["", $0.mountPoint] : $0.controllers).inserted }
    }

    /// This process's own path in the hierarchy, from /proc/self/cgroup.
    func ownPath() -> String {
        guard let bytes = try? FileSystem.read("/proc/self/cgroup") else { return "/" }
        for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false).map(String.init)
            guard parts.count == 3 else { continue }
            if isV2 ? parts[0] == "0" && parts[1].isEmpty : Set(parts[1].split(separator: ",").map(String.init)) == Set(controllers) {
                return parts[2]
            }
        }
        return "/"
    }
}

/// Mount paths escape space, tab, newline and backslash as octal.
private func unescapeMountPath(_ text: String) -> String {
    var out: [UInt8] = []
    let bytes = Array(text.utf8)
    var i = 0
    while i < bytes.count {
        if bytes[i] == 0x5c, i + 3 < bytes.count, let value = UInt8(String(decoding: bytes[i + 1...i + 3], as: UTF8.self), radix: 8) {
            out.append(value)
            i += 4
        } else {
            out.append(bytes[i])
            i += 1
        }
    }
    return String(decoding: out, as: UTF8.self)
}

/// The container's cgroup: its directory in each hierarchy.
struct ContainerCgroup {
    /// (hierarchy, directory) for each mounted hierarchy.
    let directories: [(CgroupHierarchy, String)]

    /// Where `cgroupsPath` lands: absolute paths from each hierarchy's root,
    /// relative ones below this process's own cgroup.
    init(cgroupsPath: String) throws(RuncError) {
        guard !cgroupsPath.split(separator: "/").contains("..") else {
            throw .bundle("config.json: linux.cgroupsPath '\(cgroupsPath)' must not contain '..'")
        }
        if cgroupsPath.contains(":") && !cgroupsPath.hasPrefix("/") {
            throw .unsupported("config.json: linux.cgroupsPath '\(cgroupsPath)' is in the systemd driver's slice:prefix:name form; nabla-runc drives cgroupfs only (podman: cgroup_manager = \"cgroupfs\"; containerd: SystemdCgroup = false)")
        }
        let hierarchies = CgroupHierarchy.mounted()
        guard !hierarchies.isEmpty else { throw .system("no cgroup file system is mounted (/proc/self/mountinfo lists none)", errno: ENOENT) }
        directories = hierarchies.map { hierarchy in
            let base = cgroupsPath.hasPrefix("/") ? "" : hierarchy.ownPath()
            return (hierarchy, FileSystem.absolute(hierarchy.mountPoint + "/" + base + "/" + cgroupsPath))
        }
    }

    /// Makes the directories that do not exist yet, parents first. All are
    /// announced to `intend` at once before the first mkdir (so a crash at
    /// any point leaves them on record for delete, which tolerates the ones
    /// never made), and those that turned out to exist, made by someone else
    /// meanwhile, to `abandon`. One record for all: each save is an fsync.
    func create(intend: ([String]) throws(RuncError) -> Void, abandon: ([String]) throws(RuncError) -> Void) throws(RuncError) {
        var missing: [(CgroupHierarchy, String)] = []
        for (hierarchy, directory) in directories {
            var path = hierarchy.mountPoint
            for part in directory.dropFirst(hierarchy.mountPoint.count).split(separator: "/") {
                path += "/" + part
                if !FileSystem.exists(path) { missing.append((hierarchy, path)) }
            }
        }
        guard !missing.isEmpty else { return }
        try intend(missing.map(\.1))
        var existing: [String] = []
        for (hierarchy, path) in missing {
            if mkdir(path, 0o755) == 0 {
                if hierarchy.controllers.contains("cpuset") { try inheritCpuset(path) }
            } else if errno == EEXIST {
                existing.append(path)
            } else {
                throw .system("cannot create cgroup \(path)")
            }
        }
        if !existing.isEmpty { try abandon(existing) }
    }

    /// A new v1 cpuset starts with no CPUs and no memory nodes, and no
    /// process can join it until they are set: copy the parent's.
    private func inheritCpuset(_ path: String) throws(RuncError) {
        let parent = String(path[..<(path.lastIndex(of: "/") ?? path.endIndex)])
        for file in ["cpuset.cpus", "cpuset.mems"] {
            guard let bytes = try FileSystem.read(parent + "/" + file) else { continue }
            let value = String(decoding: bytes, as: UTF8.self).trimmingSpace
            if !value.isEmpty { try write(path + "/" + file, value) }
        }
    }

    /// Sets the memory and pids limits. On v2 the controllers are first
    /// enabled down the path (cgroup.subtree_control of each ancestor), as
    /// runc does; a memory limit that no hierarchy can take is an error.
    func apply(memoryLimit: UInt64?, pidsLimit: Int64?) throws(RuncError) {
        var memoryApplied = false
        for (hierarchy, directory) in directories {
            if hierarchy.isV2 { try enableV2Controllers(["memory", "pids"], down: hierarchy.mountPoint, to: directory) }
            if let memoryLimit {
                if hierarchy.controllers.contains("memory") {
                    try write(directory + "/memory.limit_in_bytes", String(memoryLimit))
                    memoryApplied = true
                } else if hierarchy.isV2, FileSystem.exists(directory + "/memory.max") {
                    try write(directory + "/memory.max", String(memoryLimit))
                    memoryApplied = true
                }
            }
            if let pidsLimit {
                if hierarchy.controllers.contains("pids") || (hierarchy.isV2 && FileSystem.exists(directory + "/pids.max")) {
                    try write(directory + "/pids.max", String(pidsLimit))
                }
            }
        }
        if memoryLimit != nil && !memoryApplied {
            throw .unsupported("the memory limit cannot be applied: no cgroup hierarchy here has the memory controller")
        }
    }

    /// Enables each of `wanted` that a v2 cgroup offers (cgroup.controllers)
    /// in its cgroup.subtree_control, from `root` down to the parent of `leaf`.
    private func enableV2Controllers(_ wanted: [String], down root: String, to leaf: String) throws(RuncError) {
        var path = root
        for part in leaf.dropFirst(root.count).split(separator: "/") {
            let offered = (try? FileSystem.read(path + "/cgroup.controllers")).map { String(decoding: $0, as: UTF8.self) } ?? ""
            let available = Set(offered.split(whereSeparator: { $0 == " " || $0 == "\n" }).map(String.init))
            let enabled = (try? FileSystem.read(path + "/cgroup.subtree_control")).map { String(decoding: $0, as: UTF8.self) } ?? ""
            let missing = wanted.filter { available.contains($0) && !enabled.split(whereSeparator: { $0 == " " || $0 == "\n" }).contains(Substring($0)) }
            if !missing.isEmpty {
                try write(path + "/cgroup.subtree_control", missing.map { "+" + $0 }.joined(separator: " "))
            }
            path += "/" + part
        }
    }

    /// Moves `pid` into the container's cgroup in every hierarchy.
    func join(_ pid: pid_t) throws(RuncError) {
        for (_, directory) in directories {
            try write(directory + "/cgroup.procs", String(pid))
        }
    }

    private func write(_ path: String, _ value: String) throws(RuncError) {
        let fd = open(path, O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .system("cannot open \(path)") }
        defer { close(fd) }
        let bytes = Array(value.utf8)
        guard Glibc.write(fd, bytes, bytes.count) == bytes.count else { throw .system("cannot write \(value) to \(path)") }
    }

    /// Removes cgroup directories, deepest first. A directory still in use
    /// (a process inside, or another container's below it) is left.
    static func remove(_ paths: [String]) {
        for path in paths.reversed() {
            for _ in 0..<50 {
                if rmdir(path) == 0 || errno == ENOENT || errno == ENOTEMPTY { break }
                sleepMilliseconds(20)   // EBUSY: the last process is still leaving
            }
        }
    }
}
