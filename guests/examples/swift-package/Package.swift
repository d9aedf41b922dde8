// swift-tools-version:6.0
// A nabla guest built as a Swift package. Build it with the installed SDK
// (docs/guests.md, "A Swift package"):
//
//   swift build --triple x86_64-unknown-none-elf --toolset PREFIX/share/nabla/toolset.json -c release
//   nabla-run .build/release/Greeter Ada Grace
import PackageDescription

let package = Package(
    name: "Greeter",
    targets: [
        .executableTarget(name: "Greeter"),
    ]
)
