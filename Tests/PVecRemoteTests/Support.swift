import Foundation
import PVecStore
import PVecTensor
import XCTest

/// A fresh temp folder per test, removed afterwards.
final class TempDir {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory
            .appendingPathComponent("pvec-remote-tests-\(getpid())-\(UInt64.random(in: 0...UInt64.max))", isDirectory: true)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: url) }
}

enum Fixtures {
    static let backbone = Backbone(model: "test/backbone", width: 8)

    static func tensor(seed: UInt64, rows: Int = 4) -> Tensor {
        var rng = SplitMix64(seed: seed)
        return Tensor(shape: [rows, 8], scalars: (0..<(rows * 8)).map { _ in 2 * rng.nextFloat01() - 1 })
    }

    /// Stores a prompt-shaped tensor and its manifest; returns the artifact id.
    @discardableResult
    static func prompt(_ reg: Registry, seed: UInt64, kind: ArtifactKind = .prompt, parents: [Parent] = []) throws -> ArtifactID {
        let t = tensor(seed: seed)
        let blob = try reg.putBlob(t)
        return try reg.writeManifest(Manifest(kind: kind, blob: blob, shape: t.shape, backbone: backbone, parents: parents,
                                              recipe: Recipe(op: "import", params: ["seed": .int(Int64(seed))])))
    }

    static func evaluation(_ reg: Registry, of id: ArtifactID, score: Double) throws -> ArtifactID {
        try reg.writeManifest(Manifest(kind: .evaluation, blob: nil, shape: nil, backbone: nil, parents: [Parent(.evaluated, id)],
                                       recipe: Recipe(op: "eval", params: ["data": "fixture.jsonl"]),
                                       metrics: ["accuracy": .double(score)]))
    }

    /// An init, a tuned prompt from it, a vector of both, and an evaluation of the prompt.
    static func lineage(_ reg: Registry, seed: UInt64) throws -> (initID: ArtifactID, prompt: ArtifactID, vector: ArtifactID, eval: ArtifactID) {
        let i = try prompt(reg, seed: seed, kind: .`init`)
        let p = try prompt(reg, seed: seed + 1, parents: [Parent(.`init`, i)])
        let v = try prompt(reg, seed: seed + 2, kind: .vector, parents: [Parent(.tuned, p), Parent(.`init`, i)])
        let e = try evaluation(reg, of: p, score: 0.75)
        return (i, p, v, e)
    }
}
