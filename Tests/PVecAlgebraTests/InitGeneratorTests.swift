import XCTest
import PVecAlgebra
import PVecTensor

final class InitGeneratorTests: XCTestCase {
    func testUniformIsTheSpecifiedDraw() {
        let t = InitGenerator.uniform(rows: 3, width: 5, range: 0.5, seed: 42)
        XCTAssertEqual(t.shape, [3, 5])
        var g = SplitMix64(seed: 42)
        for j in 0..<15 {
            let u = g.nextFloat01()
            XCTAssertEqual(t.scalars[j].bitPattern, (0.5 * (2 * u - 1)).bitPattern)
        }
        XCTAssertTrue(t.scalars.allSatisfy { $0 >= -0.5 && $0 < 0.5 })
        XCTAssertNotEqual(InitGenerator.uniform(rows: 3, width: 5, range: 0.5, seed: 43), t)
        XCTAssertEqual(InitGenerator.uniform(rows: 0, width: 5, range: 0.5, seed: 42).count, 0)
    }

    func testVocabSampleDrawsDistinctRowsFromTheFirstK() throws {
        // Row r of the table is filled with r, so the output names the rows it copied.
        let v = 40, c = 3
        let table = Tensor(shape: [v, c], scalars: (0..<(v * c)).map { Float($0 / c) })
        let t = try InitGenerator.vocabSample(rows: 12, embeddingTable: table, firstK: 20, seed: 5)
        XCTAssertEqual(t.shape, [12, 3])
        let rows = (0..<12).map { Int(t[$0, 0]) }
        for r in 0..<12 { XCTAssertEqual([t[r, 0], t[r, 1], t[r, 2]], [Float](repeating: Float(rows[r]), count: 3)) }
        XCTAssertEqual(Set(rows).count, 12, "without replacement")
        XCTAssertTrue(rows.allSatisfy { $0 < 20 }, "only the first K rows")
        // The first index is idx[nextBelow(20)] of the identity permutation.
        var g = SplitMix64(seed: 5)
        XCTAssertEqual(rows[0], Int(g.nextBelow(20)))
        // All rows of the first K: a permutation.
        let all = try InitGenerator.vocabSample(rows: 20, embeddingTable: table, firstK: 20, seed: 5)
        XCTAssertEqual(Set((0..<20).map { Int(all[$0, 0]) }), Set(0..<20))
        XCTAssertEqual(Array((0..<12).map { Int(all[$0, 0]) }), rows, "a prefix of the longer draw")
    }
}
