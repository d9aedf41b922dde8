// swift-tools-version:6.0
// The fuzzing harness for nabla's image validator (fuzz/README.md).
//
// A package of its own beside the main one, not a target in it: the
// top-level `swift build` and `swift test` never see it, and it is only
// ever built instrumented, by fuzz/run.sh:
//   swift build --package-path fuzz --scratch-path .build-fuzz \
//       -Xswiftc -sanitize=fuzzer,address ...
import PackageDescription

let package = Package(
    name: "nabla-fuzz",
    dependencies: [
        .package(name: "nabla", path: ".."),
    ],
    targets: [
        // libFuzzer's LLVMFuzzerRunDriver, declared; swiftc links the runtime.
        .systemLibrary(name: "CFuzzer", path: "Sources/CFuzzer"),
        .executableTarget(
            name: "nabla-fuzz",
            dependencies: ["CFuzzer", .product(name: "Nabla", package: "nabla"),
                           .product(name: "NablaTestSupport", package: "nabla")]
        ),
    ]
)
