import XCTest
import PVecAlgebra
import PVecTensor

/// `TaskVector.composed`: init + Σ w_i τ_i per vector and per vector and row, against a Float64
/// reference, with its order, its equivalences and its refusals.
final class CompositionTests: XCTestCase {
    static func tensor(_ rows: Int, _ width: Int, seed: UInt64) -> Tensor {
        var rng = SplitMix64(seed: seed)
        return Tensor(shape: [rows, width], scalars: (0..<(rows * width)).map { _ in 2 * rng.nextFloat01() - 1 })
    }

    let initial = tensor(3, 5, seed: 1)
    let taus = (0..<3).map { tensor(3, 5, seed: 10 + UInt64($0)) }

    /// The composition in Float64, row by row, from nothing but the definition.
    func reference(_ w: (Int, Int) -> Double) -> [Double] {
        (0..<15).map { j in
            Double(initial.scalars[j]) + (0..<3).reduce(0.0) { $0 + w($1, j / 5) * Double(taus[$1].scalars[j]) }
        }
    }

    func assertClose(_ got: Tensor, _ want: [Double], file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(got.count, want.count, file: file, line: line)
        for (g, w) in zip(got.scalars, want) { XCTAssertEqual(Double(g), w, accuracy: 1e-6, file: file, line: line) }
    }

    func testPerVectorAndPerRowWeightsMatchTheFloat64Definition() throws {
        let w: [Float] = [0.25, -1.5, 0.75]
        assertClose(try TaskVector.composed(init: initial, taus: taus, weights: .perSource(w)), reference { i, _ in Double(w[i]) })
        let rowWeights: [Float] = (0..<9).map { Float($0) * 0.125 - 0.5 }
        let got = try TaskVector.composed(init: initial, taus: taus, weights: .perRow(rowWeights, rows: 3))
        assertClose(got, reference { i, r in Double(rowWeights[i * 3 + r]) })
    }

    func testEqualRowWeightsAreBitForBitThePerVectorComposition() throws {
        let w: [Float] = [0.3, 0.7, -0.2]
        let perRow = w.flatMap { [Float](repeating: $0, count: 3) }
        XCTAssertEqual(try TaskVector.composed(init: initial, taus: taus, weights: .perSource(w)),
                       try TaskVector.composed(init: initial, taus: taus, weights: .perRow(perRow, rows: 3)))
    }

    func testUnitWeightsAreTheSumOntoTheInit() throws {
        // With w_i = 1 every product is exact, so the composition is `add --onto` with λ = 1, bit for bit.
        XCTAssertEqual(try TaskVector.composed(init: initial, taus: taus, weights: .perSource([1, 1, 1])),
                       try TaskVector.onto(init: initial, taus: taus))
    }

    func testSumsAreLeftToRight() throws {
        // (1e8 + 1) + (−1e8) = 0 in Float, while 1 + (1e8 − 1e8) = 1: the order is observable.
        let one = Tensor(shape: [1, 1], scalars: [0])
        let t = [Tensor(shape: [1, 1], scalars: [1e8]), Tensor(shape: [1, 1], scalars: [1]), Tensor(shape: [1, 1], scalars: [-1e8])]
        XCTAssertEqual(try TaskVector.composed(init: one, taus: t, weights: .perSource([1, 1, 1])).scalars, [0])
        XCTAssertEqual(try TaskVector.composed(init: one, taus: [t[0], t[2], t[1]], weights: .perSource([1, 1, 1])).scalars, [1])
    }

    func testRefusals() {
        XCTAssertThrowsError(try TaskVector.composed(init: initial, taus: taus, weights: .perSource([1, 2]))) {
            XCTAssertTrue("\($0.localizedDescription)".contains("weights"), "\($0)")
        }
        XCTAssertThrowsError(try TaskVector.composed(init: initial, taus: taus, weights: .perRow([Float](repeating: 1, count: 6), rows: 2)))
        XCTAssertThrowsError(try TaskVector.composed(init: initial, taus: taus, weights: .perSource([1, .nan, 1])))
        XCTAssertThrowsError(try TaskVector.composed(init: initial, taus: taus, weights: .perSource([1, .infinity, 1])))
        XCTAssertThrowsError(try TaskVector.composed(init: Self.tensor(2, 5, seed: 3), taus: taus, weights: .perSource([1, 1, 1])))
        XCTAssertThrowsError(try TaskVector.composed(init: initial, taus: [], weights: .perSource([])))
    }
}
