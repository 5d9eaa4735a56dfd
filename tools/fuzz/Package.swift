// swift-tools-version:6.0
// libFuzzer harness for ZipAR's file parsers, kept out of the main package's build and tests.
// Build: tools/fuzz.sh (swift build -Xswiftc -sanitize=fuzzer,address in this folder).
import PackageDescription

let package = Package(
    name: "ZipARFuzz",
    dependencies: [.package(name: "ZipAR", path: "../..")],
    targets: [
        .executableTarget(
            name: "zipar-fuzz",
            dependencies: [.product(name: "ZipAR", package: "ZipAR")]
        ),
    ],
    swiftLanguageModes: [.v5]
)
