// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "StreamGate",
    platforms: [.macOS(.v14)],
    dependencies: [
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
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
            name: "StreamGateConfig",
            dependencies: [.product(name: "Yams", package: "Yams")]
        ),
        .testTarget(
            name: "StreamGateConfigTests",
            dependencies: ["StreamGateConfig"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
