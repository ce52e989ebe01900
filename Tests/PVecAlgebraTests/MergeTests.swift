import XCTest
@testable import PVecAlgebra
import PVecTensor

/// Hand-worked cases for the parts of each method the random fixtures cannot pin down.
final class MergeTests: XCTestCase {
    private func v(_ xs: [Float]) -> Tensor { Tensor(shape: [xs.count], scalars: xs) }

    func testMagnitudePruneBreaksTiesByIndex() throws {
        let t = v([2, -2, 2, 1])
        XCTAssertEqual(try Merge.magnitudePrune(t, density: 0.5).scalars, [2, -2, 0, 0])
        XCTAssertEqual(try Merge.magnitudePrune(t, density: 0.74).scalars, [2, -2, 2, 0], "k = round(2.96) = 3")
        XCTAssertEqual(try Merge.magnitudePrune(t, density: 0).scalars, [0, 0, 0, 0])
        XCTAssertEqual(try Merge.magnitudePrune(t, density: 1).scalars, t.scalars)
        XCTAssertEqual(try Merge.magnitudePrune(v([-0.0, 3, -5]), density: 0.34).scalars, [0, 0, -5])
        // 0.7 is 0.699999988 in Float: rounding, not truncation, gives k = 7 of 10.
        let ten = v((1...10).map { Float($0) })
        XCTAssertEqual(try Merge.magnitudePrune(ten, density: 0.7).scalars.filter { $0 != 0 }.count, 7)
    }

    func testTiesTrimElectDisjointMean() throws {
        // Trimmed at density 0.5: [2, -2, 0, 0], [-1, 3, 0, 0], [0.5, 0, -4, 0].
        // Elected signs: +, +, -, 0. Means of agreeing entries: 1.25, 3, -4, 0. Times λ = 2.
        let taus = [v([2, -2, 2, 1]), v([-1, 3, 1, 1]), v([0.5, 0.5, -4, 0.5])]
        XCTAssertEqual(try Merge.ties(taus, density: 0.5, lambda: 2).scalars, [2.5, 6, -8, 0])
        // Without trimming every entry votes: column 1 is −2 + 3 + 0.5 > 0, mean of 3 and 0.5.
        XCTAssertEqual(try Merge.ties(taus, density: 1, lambda: 1).scalars, [1.25, 1.75, -4, 2.5 / 3])
    }

    func testTiesOfOneTauIsItsPrunedSelf() throws {
        let t = v([0.3, -0.1, 0.7, -0.9, 0.2])
        XCTAssertEqual(try Merge.ties([t], density: 0.4).scalars, try Merge.magnitudePrune(t, density: 0.4).scalars)
    }

    func testDareWithoutDropsIsTaskArithmetic() throws {
        let taus = [v([1, 2, 3]), v([0.5, -1, 0.25])]
        let sparse = try Merge.dareSparsify(taus, dropRate: 0, seed: 99)
        XCTAssertEqual(sparse, taus)
        XCTAssertEqual(try Merge.dare(taus, dropRate: 0, seed: 1, lambda: 0.5),
                       try Merge.taskArithmetic(taus, lambda: 0.5))
    }

    func testDareMaskDependsOnSeedOnly() throws {
        let a = [Tensor(shape: [8, 8], scalars: (0..<64).map { Float($0 + 1) })]
        let b = [Tensor(shape: [8, 8], scalars: (0..<64).map { -Float($0) - 0.5 })]
        let pattern = { (ts: [Tensor]) in ts[0].scalars.map { $0 == 0 } }
        let sa = try Merge.dareSparsify(a, dropRate: 0.5, seed: 3)
        XCTAssertEqual(pattern(sa), pattern(try Merge.dareSparsify(b, dropRate: 0.5, seed: 3)))
        XCTAssertNotEqual(pattern(sa), pattern(try Merge.dareSparsify(a, dropRate: 0.5, seed: 4)))
        // Kept entries are rescaled by 1 / (1 − p) = 2.
        for (x, y) in zip(a[0].scalars, sa[0].scalars) where y != 0 { XCTAssertEqual(y, 2 * x) }
        // The first entry uses the first draw of SplitMix64(seed: 3).
        var g = SplitMix64(seed: 3)
        XCTAssertEqual(sa[0].scalars[0] == 0, g.nextFloat01() < 0.5)
    }

    func testDareTiesElectsOnTheSparsifiedTaus() throws {
        let taus = [v([1, -1, 1, -1, 1, -1]), v([-3, 3, -3, 3, -3, 3])]
        let sparse = try Merge.dareSparsify(taus, dropRate: 0.25, seed: 8)
        let direct = try Merge.ties(sparse, density: 1)
        XCTAssertEqual(try Merge.dare(taus, dropRate: 0.25, seed: 8, ties: true), direct)
    }

    func testLinearAndTaskArithmetic() throws {
        let xs = [v([1, 2]), v([3, 6])]
        XCTAssertEqual(try Merge.linear(xs).scalars, [2, 4])
        XCTAssertEqual(try Merge.linear(xs, weights: [3, 1]).scalars, [1.5, 3])
        XCTAssertEqual(try Merge.taskArithmetic(xs, weights: [1, -1], lambda: 2).scalars, [-4, -8])
        XCTAssertEqual(try Merge.taskArithmetic(xs), try TaskVector.sum(xs))
    }

    func testSlerpEndpointsAndGeometry() throws {
        let a = v([0.3, -0.2, 0.5]), b = v([-0.1, 0.4, 0.2])
        XCTAssertEqual(try Merge.slerp(a, b, t: 0), a)
        XCTAssertEqual(try Merge.slerp(a, b, t: 1), b)
        // Orthogonal unit vectors: the midpoint stays on the unit circle at 45°.
        let mid = try Merge.slerp(v([1, 0]), v([0, 1]), t: 0.5)
        XCTAssertEqual(mid.scalars[0], 0.70710677, accuracy: 1e-7)
        XCTAssertEqual(mid.scalars[1], 0.70710677, accuracy: 1e-7)
        // A third of the way along the arc between orthogonal vectors is at 30°.
        let third = try Merge.slerp(v([1, 0]), v([0, 1]), t: 1.0 / 3.0)
        XCTAssertEqual(third.scalars[0], 0.8660254, accuracy: 1e-6)
        XCTAssertEqual(third.scalars[1], 0.5, accuracy: 1e-6)
        // Zero and parallel vectors fall back to lerp.
        XCTAssertEqual(try Merge.slerp(v([0, 0]), v([2, 4]), t: 0.5).scalars, [1, 2])
        XCTAssertEqual(try Merge.slerp(v([1, 2]), v([2, 4]), t: 0.5).scalars, [1.5, 3])
    }
}

extension MergeTests {
    /// The selection behind TIES trimming agrees with sorting, at every rank and on duplicates.
    func testKthSmallestAgreesWithSort() {
        var g = SplitMix64(seed: 11)
        for n in [1, 2, 3, 10, 257] {
            let values = (0..<n).map { _ in g.nextBelow(n > 10 ? 50 : 1_000) }
            let sorted = values.sorted()
            for r in 0..<n { XCTAssertEqual(Merge.kthSmallest(values, r), sorted[r], "n \(n) rank \(r)") }
        }
    }
}
