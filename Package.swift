// swift-tools-version:6.0
import PackageDescription

/// The targets on the path of every proxied byte skip Swift's run-time exclusivity checks in release builds
/// (about 5% of the instructions per event, see docs/benchmark.md); debug builds, and so the tests, keep them.
let hotPathSettings: [SwiftSetting] = [
    .unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release))
]

let package = Package(
    name: "StreamGate",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "streamgate", targets: ["streamgate"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
    ],
    targets: [
        .systemLibrary(
            name: "CNghttp2",
            pkgConfig: "libnghttp2",
            providers: [.apt(["libnghttp2-dev"])]
        ),
        .systemLibrary(
            name: "COpenSSL",
            pkgConfig: "openssl",
            providers: [.apt(["libssl-dev"])]
        ),
        .target(
            name: "StreamGateTLS",
            dependencies: [
                "COpenSSL",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: hotPathSettings
        ),
        .target(
            name: "StreamGateHTTP2",
            dependencies: [
                "CNghttp2",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: hotPathSettings
        ),
        .target(
            name: "StreamGateConfig",
            dependencies: [.product(name: "Yams", package: "Yams")]
        ),
        .target(
            name: "StreamGateProxy",
            dependencies: [
                "StreamGateConfig",
                "StreamGateTLS",
                "StreamGateHTTP2",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                // The fuzzing harness (Sources/StreamGateProxy/Fuzzing) drives the downstream pipeline in memory.
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: hotPathSettings
        ),
        .target(
            name: "StreamGateAdmin",
            dependencies: [
                "StreamGateConfig",
                "StreamGateProxy",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .target(
            name: "StreamGateDemo",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        .executableTarget(
            name: "streamgate",
            dependencies: [
                "StreamGateAdmin",
                "StreamGateDemo",
                "StreamGateTLS",
                "StreamGateConfig",
                "StreamGateProxy",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ]
        ),
        // libFuzzer entry point (built by Fuzz/run with -sanitize=fuzzer and -D FUZZING), else a replayer of saved
        // inputs.
        .executableTarget(
            name: "streamgate-fuzz",
            dependencies: ["StreamGateProxy"]
        ),
        .executableTarget(
            name: "streamgate-bench",
            dependencies: [
                "StreamGateAdmin",
                "StreamGateHTTP2",
                "StreamGateTLS",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "StreamGateConfigTests",
            dependencies: ["StreamGateConfig"]
        ),
        .testTarget(
            name: "StreamGateProxyTests",
            dependencies: [
                "StreamGateProxy",
                "StreamGateAdmin",
                "StreamGateConfig",
                "StreamGateHTTP2",
                "StreamGateTestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "StreamGateTestSupport",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            path: "Tests/StreamGateTestSupport"
        ),
        .testTarget(
            name: "StreamGateEndToEndTests",
            dependencies: ["StreamGateTestSupport", "streamgate"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
