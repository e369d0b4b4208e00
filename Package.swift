// swift-tools-version:6.0
import PackageDescription

// One `mt` binary; each subcommand is its own module on MTCore (see ARCHITECTURE.md).
// MTCore links the system libraries the commands share; MTStats alone links SQLite and ReadStat (the dataset's
// formats). Command modules never import each other.
let commands = ["MTExport", "MTDecrypt", "MTRecover", "MTBenchmark", "MTVerify", "MTScales", "MTStats", "MTStatus", "MTCustody", "MTWithdraw"]

let package = Package(
    name: "mt",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "mt", targets: ["mt"]),
        // For the packages in Fuzz/ and Sim/ (a path dependency can only use products).
        .library(name: "MTCore", targets: ["MTCore"]),
        .library(name: "MTStats", targets: ["MTStats"]), // mt-sim's tests score its studies with it
        .library(name: "MTTestSupport", targets: ["MTTestSupport"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
    ],
    targets: [
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl",
                       providers: [.apt(["libcurl4-openssl-dev"])]),
        .systemLibrary(name: "COpenSSL", pkgConfig: "libcrypto",
                       providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib",
                       providers: [.apt(["zlib1g-dev"])]),
        // The dataset's study database and its SPSS/Stata files (mt stats dataset); only MTStats links them.
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3",
                       providers: [.apt(["libsqlite3-dev"])]),
        .systemLibrary(name: "CReadStat", providers: [.apt(["libreadstat-dev"])]),
        .target(name: "MTCore", dependencies: [
            "CCurl", "COpenSSL", "CZlib",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Yams", package: "Yams"),
        ]),
    ]
    + commands.map { .target(name: $0, dependencies: ["MTCore"] + ($0 == "MTStats" ? ["CSQLite", "CReadStat"] : [])) }
    + [
        // VERSION, the commit and the compiler, for `mt --version` (Sources/CBuildInfo/build_info.c says how).
        .target(name: "CBuildInfo"),
        .executableTarget(name: "mt", dependencies: ["MTCore", "CBuildInfo"] + commands.map { .target(name: $0) }),
        .target(name: "MTTestSupport", dependencies: ["MTCore"], path: "Tests/Support", exclude: ["smtp_sink.py", "http_test_server.py", "hostile_server.py"]),
        .testTarget(name: "MTCoreTests", dependencies: ["MTCore", "MTTestSupport"]),
        .testTarget(name: "EndToEndTests", dependencies: ["MTCore", "MTExport", "MTTestSupport"]),
    ]
    + commands.map { .testTarget(name: "\($0)Tests", dependencies: [.target(name: $0), "MTCore", "MTTestSupport"]) }
)
