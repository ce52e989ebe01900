import Foundation
import XCTest
import PVecAlgebra
import PVecTensor

/// Stored results must not depend on the run, the thread or the BLAS thread count.
final class DeterminismTests: XCTestCase {
    private static func random(_ shape: Shape, seed: UInt64) -> Tensor {
        InitGenerator.uniform(rows: shape.rows, width: shape.width, range: 0.1, seed: seed)
    }

    /// Every stored-result operation on prompt-sized inputs, as canonical bytes.
    private static func everything() throws -> [[UInt8]] {
        let taus = (0..<3).map { random([100, 384], seed: UInt64($0)) }
        let initial = random([100, 384], seed: 99)
        let results: [Tensor] = [
            try TaskVector.difference(tuned: taus[0], init: initial),
            try TaskVector.sum(taus, lambda: 0.37),
            try TaskVector.onto(init: initial, taus: taus, lambda: 0.5),
            try Merge.linear(taus, weights: [0.1, 0.7, 0.2]),
            try Merge.taskArithmetic(taus, weights: [1, -0.3, 0.9], lambda: 1.1),
            try Merge.magnitudePrune(taus[1], density: 0.2),
            try Merge.ties(taus, density: 0.2, lambda: 1.3),
            try Merge.dare(taus, dropRate: 0.9, seed: 11, lambda: 0.8),
            try Merge.dare(taus, dropRate: 0.5, seed: 12, ties: true),
            try Merge.slerp(taus[0], taus[2], t: 0.4),
            InitGenerator.uniform(rows: 100, width: 384, range: 0.5, seed: 1),
            try InitGenerator.vocabSample(rows: 100, embeddingTable: random([6000, 16], seed: 5), seed: 2),
        ]
        return results.map(Safetensors.canonical)
    }

    func testSameCallTwiceGivesSameBits() throws {
        XCTAssertEqual(try Self.everything(), try Self.everything())
    }

    func testIndependentOfBLASThreadsAndCallingThreads() throws {
        let reference = try Self.everything()
        BLAS.setThreads(1)
        let single = try Self.everything()
        BLAS.setThreads(2)
        let two = try Self.everything()
        XCTAssertEqual(single, reference)
        XCTAssertEqual(two, reference)

        // Computed concurrently on several threads at once.
        let results = Collected()
        DispatchQueue.concurrentPerform(iterations: 3) { _ in
            results.append((try? Self.everything()) ?? [])
        }
        XCTAssertEqual(results.all.count, 3)
        for r in results.all { XCTAssertEqual(r, reference) }
    }
}

/// Results gathered from concurrent threads.
private final class Collected: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [[[UInt8]]] = []

    func append(_ r: [[UInt8]]) { lock.lock(); items.append(r); lock.unlock() }
    var all: [[[UInt8]]] { lock.lock(); defer { lock.unlock() }; return items }
}
