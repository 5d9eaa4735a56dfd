// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "ZipAR",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "ZipAR", targets: ["ZipAR"]),
        .library(name: "ZipARServer", targets: ["ZipARServer"]),
        .executable(name: "zipar", targets: ["zipar"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", exact: "2.28.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", exact: "2.13.0"),
        .package(url: "https://github.com/apple/swift-nio", exact: "2.101.3"),
        .package(url: "https://github.com/apple/swift-log", exact: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-prometheus", exact: "2.4.1"),
        .package(url: "https://github.com/groue/GRDB.swift", exact: "7.10.0"),
        .package(url: "https://github.com/vapor/postgres-nio", exact: "1.33.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", exact: "2.37.6"),
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
        // `zipar serve`: the OpenAI-compatible image server on Hummingbird 2.
        .target(
            name: "ZipARServer",
            dependencies: [
                "ZipAR",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            resources: [.copy("Web")]
        ),
        .executableTarget(
            name: "zipar",
            dependencies: ["ZipAR", "ZipARServer", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            resources: [.copy("DefaultModel")]
        ),
        .testTarget(
            name: "ZipARTests",
            dependencies: ["ZipAR"],
            resources: [.copy("Fixtures")]
        ),
        .testTarget(
            name: "ZipARServerTests",
            dependencies: [
                "ZipARServer",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
    ],
    swiftLanguageModes: [.v5]
)
