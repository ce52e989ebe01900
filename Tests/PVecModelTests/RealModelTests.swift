import Foundation
import XCTest
import PVecTensor
@testable import PVecModel

final class RealModelTests: XCTestCase {
    func testPublicInitializerFindsAndVerifiesTheModel() throws {
        let start = Date()
        let encoder = try BertEncoder()
        print("BertEncoder() load with SHA-256 check: \(String(format: "%.2f", Date().timeIntervalSince(start))) s")
        XCTAssertEqual(encoder.config, .miniLML6)
        XCTAssertEqual(encoder.width, 384)
        XCTAssertEqual(encoder.vocabularySize, 30_522)
        let fp = encoder.fingerprint
        XCTAssertEqual(fp.model, "sentence-transformers/all-MiniLM-L6-v2")
        XCTAssertEqual(fp.width, 384)
        XCTAssertEqual(fp.embedding, ModelDirectory.miniLML6EmbeddingSHA256)
        print("MiniLM fingerprint: \(fp) \(fp.embedding ?? "")")
    }

    /// The recorded embedding hash is the hash of the canonical table, and an encoder that
    /// did not verify the file computes the same value.
    func testFingerprintIsTheHashOfTheCanonicalEmbeddingTable() throws {
        let encoder = try RealModel.encoder()
        let table = encoder.wordEmbeddings(rows: 0..<30_522)
        XCTAssertEqual(table.shape, [30_522, 384])
        XCTAssertEqual(Digest.sha256Hex(Safetensors.canonical(table)), ModelDirectory.miniLML6EmbeddingSHA256)
        XCTAssertEqual(encoder.fingerprint, Backbone(model: "sentence-transformers/all-MiniLM-L6-v2", width: 384,
                                                     embedding: ModelDirectory.miniLML6EmbeddingSHA256))
    }

    func testWordEmbeddingRowsAreTheTableRows() throws {
        let encoder = try RealModel.encoder()
        let rows = encoder.wordEmbeddings(rows: 100..<103)
        XCTAssertEqual(rows.shape, [3, 384])
        let all = encoder.wordEmbeddings(rows: 0..<5000)
        XCTAssertEqual(Array(all.scalars[(100 * 384)..<(103 * 384)]), rows.scalars)
    }

    /// Float32 central differences on the real model, for a few of the largest prompt
    /// gradient entries and along the gradient direction.
    func testPromptGradientSpotCheckAgainstFiniteDifferences() throws {
        let encoder = try RealModel.encoder()
        let batch = ["a gripping, beautifully shot film", "the plot makes no sense at all"]
            .map { encoder.tokenize($0, pair: nil, maxLength: 64) }
        let m = 4, C = 384
        let prompt = Tensor(shape: [m, C], scalars: TinyBert.uniform(m * C, seed: 5, scale: 0.05))
        let r = Tensor(shape: [2, C], scalars: TinyBert.uniform(2 * C, seed: 6, scale: 1))
        func loss(_ p: Tensor) throws -> Double {
            let out = try encoder.forward(batch, prompt: p, normalize: true)
            return zip(out.scalars, r.scalars).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        }
        _ = try encoder.forward(batch, prompt: prompt, normalize: true)
        let g = try XCTUnwrap(encoder.backward(dFeatures: r, inputGradients: false).prompt)
        let h: Float = 1e-2
        let top = g.scalars.indices.sorted { abs(g.scalars[$0]) > abs(g.scalars[$1]) }.prefix(4)
        var maxRel = 0.0
        for i in top {
            var plus = prompt, minus = prompt
            plus.scalars[i] += h
            minus.scalars[i] -= h
            let fd = (try loss(plus) - loss(minus)) / Double(2 * h)
            let rel = abs(fd - Double(g.scalars[i])) / abs(fd)
            maxRel = max(maxRel, rel)
            print("MiniLM dL/dP[\(i / C), \(i % C)]: analytic \(g.scalars[i]), FD \(fd), relative error \(rel)")
        }
        XCTAssertLessThan(maxRel, 2e-2)
        // Directional derivative along the normalised gradient: <g, g/|g|> = |g|.
        let norm = g.norm
        var plus = prompt, minus = prompt
        for i in 0..<g.count {
            plus.scalars[i] += h * g.scalars[i] / norm
            minus.scalars[i] -= h * g.scalars[i] / norm
        }
        let fd = (try loss(plus) - loss(minus)) / Double(2 * h)
        let rel = abs(fd - Double(norm)) / Double(norm)
        print("MiniLM directional derivative along dL/dP: analytic \(norm), FD \(fd), relative error \(rel)")
        XCTAssertLessThan(rel, 1e-2)
    }

    /// A training step's bits depend on the batch and the OpenBLAS kernel only: the same with
    /// OpenBLAS on 1 or 2 threads, on every repetition (the chunks of `SequenceChunks` run
    /// their sgemms single-threaded, whichever thread takes them), and a batch of 5 (chunks of
    /// unequal size) agrees with its sequences run one at a time to rounding.
    func testStepBitsDoNotDependOnThreadsAndChunksAgreeWithSingleSequences() throws {
        let encoder = try RealModel.encoder()
        let texts = ["a gripping, beautifully shot film", "the plot makes no sense at all", "fine",
                     "an hour and a half of my life i will not get back, sadly", "warm and funny"]
        let batch = texts.map { encoder.tokenize($0, pair: nil, maxLength: 64) }
        let m = 4, C = 384
        let prompt = Tensor(shape: [m, C], scalars: TinyBert.uniform(m * C, seed: 5, scale: 0.05))
        let r = Tensor(shape: [batch.count, C], scalars: TinyBert.uniform(batch.count * C, seed: 6, scale: 1))
        func step(threads: Int) throws -> (Tensor, Tensor) {
            BLAS.setThreads(threads)
            let out = try encoder.forward(batch, prompt: prompt, normalize: true)
            let g = try XCTUnwrap(encoder.backward(dFeatures: r, inputGradients: false).prompt)
            return (out, g)
        }
        let before = BLAS.threads
        defer { BLAS.setThreads(before) }
        let (out2, g2) = try step(threads: 2)
        for threads in [1, 2, 1] {
            let (out, g) = try step(threads: threads)
            XCTAssertEqual(out.scalars.map(\.bitPattern), out2.scalars.map(\.bitPattern), "output, \(threads) threads")
            XCTAssertEqual(g.scalars.map(\.bitPattern), g2.scalars.map(\.bitPattern), "gradient, \(threads) threads")
        }
        var maxdiff: Float = 0
        for (b, seq) in batch.enumerated() {
            let one = try encoder.forward([seq], prompt: prompt, normalize: true)
            for i in 0..<C { maxdiff = max(maxdiff, abs(one[0, i] - out2[b, i])) }
        }
        print("MiniLM batch of 5 vs one sequence at a time: maxdiff \(maxdiff)")
        XCTAssertLessThan(maxdiff, 1e-5)
    }
}
