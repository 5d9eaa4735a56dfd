// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "ZipAR",
    platforms: [.macOS(.v13)],
    products: [
        .library(name: "ZipAR", targets: ["ZipAR"]),
        .executable(name: "zipar", targets: ["zipar"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // OpenBLAS on Linux (Debian's libopenblas-dev); Apple platforms use Accelerate instead.
        .systemLibrary(name: "CBLAS", path: "Sources/CBLAS"),
        // Hand-written SIMD kernels (AVX2+FMA chosen at run time on x86-64, portable C elsewhere).
        .target(name: "CKernels", cSettings: [.unsafeFlags(["-O3"])]),
        .target(
            name: "ZipAR",
            dependencies: ["CKernels", .target(name: "CBLAS", condition: .when(platforms: [.linux]))]
        ),
        .executableTarget(
            name: "zipar",
            dependencies: ["ZipAR", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            resources: [.copy("DefaultModel")]
        ),
        .testTarget(
            name: "ZipARTests",
            dependencies: ["ZipAR"],
            resources: [.copy("Fixtures")]
        ),
    ],
    swiftLanguageModes: [.v5]
)
