// nabla-runc's network wiring and crash cleanup, on network namespaces the
// tests make (NamespacePair: the container's, with eth0 10.213.0.2/24, and
// a host side with 10.213.0.1). Traffic stays inside those namespaces.
//
// These need root, ip, tc and ping; without them they are skipped and say so.

import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite("OCI runtime: network and crash cleanup", .serialized)
struct OCINetworkTests {
    @Test("the guest takes eth0's address, gateway and MAC; pings from the host side reach it through the TAP",
          .enabled(if: OCIHost.hasNetworkTools, "needs root, ip, tc and ping (tools/install-deps) to make network namespaces"))
    func pingThroughEth0() throws {
        let pair = try NamespacePair()
        let root = try RuntimeRoot(), bundle = try OCIBundle(guests: ["ping-serve"])
        try bundle.write(OCIBundle.config(args: ["/ping-serve.nabla", "limit=5"],
                                          namespaces: [["type": "network", "path": pair.containerPath], ["type": "mount"]]))
        let container = try CreatedContainer(root: root, bundle: bundle)
        #expect(container.createStatus == 0, "\(container.stderr)")
        let link = try pair.inContainer(["link", "show", "nabla0"])
        #expect(link.status == 0 && link.stdout.contains("UP"), "the TAP exists and is up: \(link)")
        #expect(try pair.qdiscs("eth0").contains("ingress"), "eth0 redirects to the TAP")
        let mac = try pair.inContainer(["-o", "link", "show", "eth0"]).stdout
            .firstMatch(of: /link\/ether ([0-9a-f:]{17})/).map { String($0.1) }

        #expect(try root.runc(["start", container.id]).status == 0)
        let deadline = Date().addingTimeInterval(10)
        while !container.stdout.contains("ping-serve: ready") && Date() < deadline { usleep(5_000) }
        let expected = "ipv4 \(pair.containerAddress)/24 gw \(pair.hostAddress)"
        #expect(container.stdout.contains(expected), "\(container.stdout)\(container.stderr)")
        #expect(mac.map { container.stdout.contains("mac \($0)") } == true, "the guest uses eth0's MAC \(mac ?? "?"): \(container.stdout)")

        let ping = try pair.inHost("ping", ["-c", "5", "-i", "0.2", "-W", "1", pair.containerAddress])
        #expect(ping.stdout.contains("5 packets transmitted, 5 received"), "\(ping)")
        try root.waitForStatus(container.id, "stopped")
        #expect(container.stdout.contains("replies 5"), "\(container.stdout)")

        #expect(try root.runc(["delete", container.id]).status == 0)
        #expect(try pair.inContainer(["link", "show", "nabla0"]).status != 0, "delete removes the TAP")
        #expect(!(try pair.qdiscs("eth0").contains("ingress")), "delete removes eth0's redirect")
    }

    @Test("with the annotation org.nabla.network=none the guest gets no NIC and no network arguments",
          .enabled(if: OCIHost.hasNetworkTools, "needs root, ip and tc"))
    func networkNone() throws {
        let pair = try NamespacePair()
        let root = try RuntimeRoot(), bundle = try OCIBundle(guests: ["args"])
        try bundle.write(OCIBundle.config(args: ["/args.nabla", "one"], namespaces: [["type": "network", "path": pair.containerPath]],
                                          annotations: ["org.nabla.network": "none"]))
        let outcome = try root.runc(["run", "--bundle", bundle.path, "no-test-" + OCIHost.tag()])
        // argv[0] is the image as nabla-runc hands it to nabla-run (a descriptor
        // opened inside the container's root, docs/oci.md); no --ipv4 or --gw follows.
        #expect(outcome.status == 0 && outcome.stdout.hasPrefix("argc=2\nargv[0]=/proc/self/fd/")
                && outcome.stdout.hasSuffix("\nargv[1]=one\n"), "\(outcome)")
        #expect(try pair.inContainer(["link", "show", "nabla0"]).status != 0)
    }

    @Test("after create is killed at any point, delete --force removes the TAP, eth0's redirect, the cgroup, the init process and the folder",
          .enabled(if: OCIHost.hasNetworkTools, "needs root, ip and tc"),
          arguments: [0, 2, 5, 10, 20, 40, 80])
    func crashCleanup(delayMilliseconds: Int) throws {
        let pair = try NamespacePair()
        let root = try RuntimeRoot(), bundle = try OCIBundle(guests: ["attack-spin"])
        let id = "no-test-" + OCIHost.tag()
        let cgroupsPath = "/" + id   // one level: the test owns the whole path
        try bundle.write(OCIBundle.config(args: ["/attack-spin.nabla"], namespaces: [["type": "network", "path": pair.containerPath], ["type": "mount"]],
                                          cgroupsPath: cgroupsPath))
        let create = try Child(OCIHost.runtime, ["--root", root.path, "create", "--bundle", bundle.path, id])
        usleep(UInt32(delayMilliseconds * 1000))
        create.kill()
        // A tool create had started (ip, tc) finishes on its own; let it,
        // as an engine's later delete would.
        let toolsDeadline = Date().addingTimeInterval(10)
        while try pair.pids().contains(where: { ["ip\n", "tc\n"].contains((try? String(contentsOfFile: "/proc/\($0)/comm", encoding: .utf8)) ?? "") })
                && Date() < toolsDeadline {
            usleep(10_000)
        }

        let delete = try root.runc(["delete", "--force", id])
        #expect(delete.status == 0, "\(delete)")
        #expect(!root.containerFolderExists(id))
        #expect(try pair.inContainer(["link", "show", "nabla0"]).status != 0, "the TAP is removed")
        #expect(!(try pair.qdiscs("eth0").contains("ingress")), "eth0's redirect is removed")
        for directory in cgroupDirectories(cgroupsPath) {
            #expect(!FileManager.default.fileExists(atPath: directory), "\(directory) is removed")
        }
        // The init process, if create got as far as starting it, exits or is killed.
        let deadline = Date().addingTimeInterval(5)
        while try !pair.pids().isEmpty && Date() < deadline { usleep(10_000) }
        #expect(try pair.pids().isEmpty, "no process is left in the container's namespace")
    }
}
