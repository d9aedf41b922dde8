// GuestABI.swift: the interfaces a guest image can be built for. The image's
// ABI note names one (ELFImage reads it); `Tender.run` and `Tender.policy`
// switch on it in one place each, and everything that differs between the
// two (memory layout, boot info, devices, seccomp policy) lives with its
// personality: the nabla ABI in Memory/, Devices/ and Hypercalls/, Solo5's
// spt ABI in Solo5SPT.swift and its neighbours.

/// The interface an image was built for.
public enum GuestABI: Equatable, Sendable {
    /// nabla's own: seven hypercalls through a table in the boot info,
    /// seven system calls in the policy (docs/abi.md).
    case nabla
    /// Solo5's spt, v0.12 (spt ABI 2): the guest makes its own system calls
    /// under Solo5's policy; its devices are declared in `manifest`
    /// (docs/solo5.md).
    case solo5SPT(manifest: Solo5Manifest)
}
