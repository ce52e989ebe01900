// swift-tools-version:6.0
import PackageDescription

// Layers, arrows pointing down only:
//   pvec (CLI)
//   PVecTrain        prompt tuning, evaluation, datasets
//   PVecModel        frozen backbones (tokenizer, forward, backward to inputs)
//   PVecRemote       bundles, signatures, registry server and client
//   PVecOps          registry operations with provenance (store + algebra)
//   PVecStore        blobs, catalog, refs, lineage, formats
//   PVecAlgebra      arithmetic and merges on tensors
//   PVecTensor       Tensor, BLAS, dtypes, safetensors / npy codecs
//   CBLAS, CZlib     system libraries
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
    ],
    targets: [
        .systemLibrary(name: "CBLAS", path: "Sources/CBLAS", pkgConfig: "openblas",
                       providers: [.apt(["libopenblas-dev"])]),
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
        .target(name: "PVecModel", dependencies: ["PVecTensor", "CBLAS"]),
        // Publishing: bundles, signatures, the registry server and its client.
        .target(name: "PVecRemote", dependencies: [
            "PVecStore", "PVecTensor",
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "Hummingbird", package: "hummingbird"),
        ]),
        .target(name: "PVecTrain", dependencies: ["PVecModel", "PVecOps", "PVecStore", "PVecAlgebra", "PVecTensor"]),
        .executableTarget(name: "pvec", dependencies: [
            "PVecTrain", "PVecOps", "PVecStore", "PVecModel", "PVecAlgebra", "PVecTensor", "PVecRemote",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        // Benchmarks: `swift run -c release pvec-bench --help` (figures in the README).
        .executableTarget(name: "pvec-bench", dependencies: [
            "PVecTrain", "PVecOps", "PVecStore", "PVecModel", "PVecAlgebra", "PVecTensor",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ], path: "Benchmarks/pvec-bench"),
        .testTarget(name: "PVecTensorTests", dependencies: ["PVecTensor"]),
        .testTarget(name: "PVecAlgebraTests", dependencies: ["PVecAlgebra", "PVecTensor"]),
        .testTarget(name: "PVecStoreTests", dependencies: ["PVecStore", "PVecTensor"]),
        .testTarget(name: "PVecOpsTests", dependencies: ["PVecOps", "PVecStore", "PVecTensor"]),
        .testTarget(name: "PVecModelTests", dependencies: ["PVecModel", "PVecTensor"]),
        .testTarget(name: "PVecTrainTests", dependencies: ["PVecTrain", "PVecModel", "PVecStore", "PVecTensor"]),
        .testTarget(name: "PVecRemoteTests", dependencies: ["PVecRemote", "PVecStore", "PVecTensor"]),
        .testTarget(name: "pvecCLITests", dependencies: ["pvec", "PVecOps", "PVecTensor", "PVecStore"]),
    ]
)
