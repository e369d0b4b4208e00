// swift-tools-version:6.0
import PackageDescription

// libFuzzer harnesses for every reader of outside input. Built only by `make fuzz` (and the bounded CI run)
// with -sanitize=fuzzer,address; kept out of the main package so that a normal build never links libFuzzer.
let package = Package(
    name: "mt-fuzz",
    dependencies: [.package(name: "mt", path: "..")],
    targets: [
        .executableTarget(name: "mt-fuzz", dependencies: [.product(name: "MTCore", package: "mt")],
                          swiftSettings: [.unsafeFlags(["-sanitize=fuzzer,address", "-parse-as-library"])],
                          linkerSettings: [.unsafeFlags(["-sanitize=fuzzer,address"])]),
    ]
)
