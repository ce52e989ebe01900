// swift-tools-version:6.0
import PackageDescription

// Layers; a target imports only targets below it (docs/architecture.md draws the graph):
//   pvec (CLI)       parses, calls one library function, prints
//   PVecTrain        prompt tuning, mixtures, evaluation, datasets      -> PVecModel, PVecOps
//   PVecRemote       bundles, signatures, registry server and client    -> PVecStore
//   PVecOps          registry operations with provenance                -> PVecAlgebra, PVecStore
//   PVecModel        frozen backbones (tokenizer, forward, backward)    -> PVecTensor
//   PVecReport       text and SVG output for people (tables, heat maps) -> PVecTensor
//   PVecStore        blobs, catalog, refs, lineage, formats             -> PVecTensor
//   PVecAlgebra      arithmetic and merges on tensors                   -> PVecTensor
//   PVecTensor       Tensor, BLAS, dtypes, safetensors / npy codecs     -> CBLAS
//   CBLAS, CZlib     system libraries
// Each target declares exactly the modules its files import.
let package = Package(
    name: "pvec",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "pvec", targets: ["pvec"]),
        .library(name: "PVecStore", targets: ["PVecStore"]),
        .library(name: "PVecTrain", targets: ["PVecTrain"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.35.2"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
    ],
    targets: [
        // Types only: OpenBLAS is opened with dlopen on first use (PVecTensor/BLASLibrary.swift).
        .systemLibrary(name: "CBLAS", path: "Sources/CBLAS", providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CZlib", path: "Sources/CZlib", pkgConfig: "zlib",
                       providers: [.apt(["zlib1g-dev"])]),
        .target(name: "PVecTensor", dependencies: [
            "CBLAS",
            .product(name: "Crypto", package: "swift-crypto"),
        ]),
        .target(name: "PVecAlgebra", dependencies: ["PVecTensor"]),
        .target(name: "PVecStore", dependencies: [
            "PVecTensor", "CZlib",
            .product(name: "GRDB", package: "GRDB.swift"),
            .product(name: "Crypto", package: "swift-crypto"),
        ]),
        .target(name: "PVecOps", dependencies: ["PVecTensor", "PVecAlgebra", "PVecStore"]),
        .target(name: "PVecModel", dependencies: ["PVecTensor"]),
        .target(name: "PVecReport", dependencies: ["PVecTensor"]),
        // Publishing: bundles, signatures, the registry server and its client.
        .target(name: "PVecRemote", dependencies: [
            "PVecStore", "PVecTensor",
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "HummingbirdCore", package: "hummingbird"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
        ]),
        .target(name: "PVecTrain", dependencies: ["PVecModel", "PVecOps", "PVecStore", "PVecTensor"]),
        .executableTarget(name: "pvec", dependencies: [
            "PVecTrain", "PVecOps", "PVecStore", "PVecModel", "PVecTensor", "PVecRemote", "PVecReport",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        // Benchmarks: `swift run -c release pvec-bench --help` (figures in the README).
        .executableTarget(name: "pvec-bench", dependencies: [
            "PVecTrain", "PVecOps", "PVecStore", "PVecModel", "PVecTensor",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ], path: "Benchmarks/pvec-bench"),
        .testTarget(name: "PVecTensorTests", dependencies: ["PVecTensor"]),
        .testTarget(name: "PVecAlgebraTests", dependencies: ["PVecAlgebra", "PVecTensor"]),
        .testTarget(name: "PVecStoreTests", dependencies: [
            "PVecStore", "PVecTensor", .product(name: "GRDB", package: "GRDB.swift"),
        ]),
        .testTarget(name: "PVecOpsTests", dependencies: ["PVecOps", "PVecStore", "PVecTensor"]),
        .testTarget(name: "PVecModelTests", dependencies: ["PVecModel", "PVecTensor"]),
        .testTarget(name: "PVecReportTests", dependencies: ["PVecReport", "PVecTensor"]),
        .testTarget(name: "PVecTrainTests", dependencies: ["PVecTrain", "PVecModel", "PVecStore", "PVecTensor"]),
        .testTarget(name: "PVecRemoteTests", dependencies: [
            "PVecRemote", "PVecStore", "PVecTensor", .product(name: "Crypto", package: "swift-crypto"),
        ]),
        .testTarget(name: "pvecCLITests", dependencies: [
            "pvec", "PVecOps", "PVecTrain", "PVecTensor", "PVecStore", .product(name: "Crypto", package: "swift-crypto"),
        ]),
    ]
)
