// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "nabla",
    products: [
        // The tender, nabla-run, is built by the Makefile in Embedded Swift
        // from Sources/Nabla and Sources/nabla-run (docs/architecture.md).
        // Its full command line (ArgumentParser), executed by nabla-run for
        // anything but an ordinary run:
        .executable(name: "nabla-run-cli", targets: ["nabla-run-cli"]),
        .executable(name: "nabla-runc", targets: ["nabla-runc"]),
        .executable(name: "nabla-test", targets: ["nabla-test"]),
        .library(name: "Nabla", targets: ["Nabla"]),
        // Synthetic guest images, shared by the tests and the fuzzer (fuzz/).
        .library(name: "NablaTestSupport", targets: ["NablaTestSupport"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", exact: "1.8.2"),
    ],
    targets: [
        // The C side shared with guests: the ABI header, the launch
        // trampoline and thin shims for calls Swift cannot make.
        .target(
            name: "CNablaTender",
            path: "tender",
            exclude: ["gen-syscall-names.sh", "gen-error-texts.sh", "offset-table.awk", "embedded"],
            publicHeadersPath: "include"
        ),
        // Debian's libseccomp, found with pkg-config.
        .systemLibrary(
            name: "CSeccomp",
            path: "Sources/CSeccomp",
            pkgConfig: "libseccomp",
            providers: [.apt(["libseccomp-dev"])]
        ),
        // A string as a JSON literal: shared by the two JSON writers.
        .target(name: "JSONText"),
        .target(
            name: "Nabla",
            dependencies: ["CNablaTender", "CSeccomp", "JSONText"]
        ),
        .executableTarget(
            name: "nabla-run-cli",
            dependencies: [
                "Nabla",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .target(
            name: "NablaTestSupport",
            dependencies: ["CNablaTender"]
        ),
        // The OCI runtime (docs/oci.md): runs the nabla-run binary beside
        // it, and shares no code with the tender.
        .target(
            name: "CNablaRunc",
            path: "Sources/CNablaRunc"
        ),
        .executableTarget(
            name: "nabla-runc",
            dependencies: ["CNablaRunc", "CSeccomp", "JSONText"]
        ),
        // The test-guest runner: starts nabla-run as a child process and
        // depends on nothing, so that it starts quickly.
        .executableTarget(name: "nabla-test"),
        .testTarget(
            name: "NablaTests",
            // nabla-run-cli, nabla-runc and nabla-test: so a bare `swift test`
            // builds them; nabla-run comes from `make tender`.
            dependencies: ["Nabla", "nabla-run-cli", "nabla-runc", "nabla-test", "NablaTestSupport"]
        ),
    ]
)
