// MountNotices.swift: what becomes of the spec's mounts, said to the user.
//
// A nabla guest has no file system: nabla-runc mounts nothing, and a bind
// mount matters only as the place a disk is read from (GuestFiles). So that
// a volume or tmpfs the user asked for does not vanish without a word, the
// container's stderr gets one line per mount when it starts (after start,
// so `podman run`, attached by then, shows it), saying what became of it.
// The mounts engines add to every container on their own are left out, so
// the lines are about the user's mounts only.

enum MountNotices {
    /// Destinations podman, containerd and the CRI add to every container.
    static let engineDefaults: Set<String> = [
        "/proc", "/sys", "/sys/fs/cgroup", "/dev", "/dev/pts", "/dev/shm", "/dev/mqueue", "/dev/console",
        "/dev/termination-log", "/etc/hosts", "/etc/hostname", "/etc/resolv.conf", "/run/.containerenv",
        "/run/secrets", "/var/run/secrets/kubernetes.io/serviceaccount",
    ]

    /// One line for each of the user's mounts (without "nabla-runc: ").
    static func lines(for spec: ContainerSpec, disks: [DiskSpec]) -> [String] {
        var seen: Set<String> = []
        var lines: [String] = []
        for mount in spec.mounts {
            let destination = mount.destination.count > 1 && mount.destination.hasSuffix("/") ? String(mount.destination.dropLast()) : mount.destination
            guard !engineDefaults.contains(destination), seen.insert(destination).inserted else { continue }
            let kind = mount.isBind ? "bind mount of \(mount.source)" : (mount.type.isEmpty ? "mount" : mount.type)
            let served = disks.filter { spec.bindMount(covering: $0.path)?.destination == mount.destination }.map { "'\($0.name)'" }
            if !served.isEmpty {
                lines.append("mount \(destination) (\(kind)) is not mounted, a nabla guest has no file system: disk \(served.joined(separator: ", ")) is read through it")
            } else if mount.isBind {
                lines.append("mount \(destination) (\(kind)) is not mounted and is ignored: a nabla guest has no file system (a file in it can be a disk: --annotation org.nabla.disk.NAME=\(destination == "/" ? "" : destination)/FILE)")
            } else {
                lines.append("mount \(destination) (\(kind)) is not mounted and is ignored: a nabla guest has no file system")
            }
        }
        return lines
    }
}
