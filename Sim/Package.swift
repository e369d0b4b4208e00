// swift-tools-version:6.1
import PackageDescription

// mt-sim, the MindTrails-compatible server for tests, demos and benchmarks, in its own package so that building
// and installing mt never compiles SwiftNIO or swift-nio-ssl's BoringSSL (minutes on a small machine). Built by
// `make demo`, `make test`, `make perf` and `make install-sim`; MTCore comes from the root package by path.
// `--tls` needs the trait TLS (`swift build --package-path Sim --traits TLS`): swift-nio-ssl's BoringSSL takes
// minutes to compile here, and only the TLS tests need it, so the demo and the benchmarks build without it.
let package = Package(
    name: "mt-sim",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "mt-sim", targets: ["mt-sim"]),
    ],
    traits: [
        .trait(name: "TLS", description: "mt-sim --tls: serve HTTPS through swift-nio-ssl (compiles BoringSSL)"),
    ],
    dependencies: [
        .package(name: "mt", path: ".."),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
    ],
    targets: [
        .target(name: "MTSim", dependencies: [
            .product(name: "MTCore", package: "mt"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "NIOSSL", package: "swift-nio-ssl", condition: .when(traits: ["TLS"])),
        ]),
        .executableTarget(name: "mt-sim", dependencies: ["MTSim", .product(name: "MTCore", package: "mt")]),
        .testTarget(name: "MTSimTests", dependencies: [
            "MTSim", .product(name: "MTCore", package: "mt"), .product(name: "MTStats", package: "mt"),
            .product(name: "MTTestSupport", package: "mt"),
        ]),
    ]
)
