// swift-tools-version:6.0
// Whittle: a terminal workbench for making small language models efficient.
// Target graph (enforced by dependencies): whittle -> WhittleCurses -> WhittleUI -> WhittleEngine -> WhittleKernels -> COpenBLAS, CKernels.
import PackageDescription

/// Numeric kernels are compiled with full optimisation and the host ISA in every configuration,
/// so debug test builds run them at full speed (see docs/DECISIONS.md). File readers and parsers
/// live in WhittleEngine, which keeps Swift's checked arithmetic.
let kernelFlags: [SwiftSetting] = [.unsafeFlags(["-Ounchecked", "-target-cpu", "native"])]

let package = Package(
    name: "Whittle",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "whittle", targets: ["whittle"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/LebJe/TOMLKit.git", from: "0.6.0"),
    ],
    targets: [
        .systemLibrary(name: "COpenBLAS", path: "Sources/COpenBLAS", pkgConfig: "openblas",
                       providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CNCurses", path: "Sources/CNCurses"),
        .target(name: "CKernels", cSettings: [.unsafeFlags(["-O3", "-march=native", "-fno-math-errno"])]),
        .target(name: "WhittleKernels", dependencies: ["COpenBLAS", "CKernels"], swiftSettings: kernelFlags),
        .target(name: "WhittleEngine",
                dependencies: ["WhittleKernels", .product(name: "TOMLKit", package: "TOMLKit")]),
        .target(name: "WhittleUI", dependencies: ["WhittleEngine"]),
        .target(name: "WhittleCurses", dependencies: ["WhittleUI", "CNCurses"]),
        .executableTarget(name: "whittle",
                          dependencies: ["WhittleEngine", "WhittleUI", "WhittleCurses",
                                         .product(name: "ArgumentParser", package: "swift-argument-parser")]),
        // Helpers every test target shares: temporary directories, tiny corpora and configs, waiting
        // on a condition with a deadline. A plain target under Tests/, never linked into `whittle`.
        .target(name: "WhittleTestSupport", dependencies: ["WhittleEngine"], path: "Tests/WhittleTestSupport"),
        .testTarget(name: "WhittleEngineTests",
                    dependencies: ["WhittleEngine", "WhittleKernels", "CKernels", "WhittleTestSupport"],
                    resources: [.copy("Fixtures")]),
        .testTarget(name: "WhittleUITests", dependencies: ["WhittleUI", "WhittleEngine", "WhittleTestSupport"],
                    exclude: ["Fixtures", "Golden"]),
        // Runs the built `whittle` binary as a subprocess (bad input, exit codes, resume, signals).
        // Also renders the workbench's Compare screen from the same models (its numbers must be the CLI's).
        .testTarget(name: "WhittleCLITests", dependencies: ["whittle", "WhittleUI", "WhittleTestSupport"]),
    ],
    swiftLanguageModes: [.v6]
)
