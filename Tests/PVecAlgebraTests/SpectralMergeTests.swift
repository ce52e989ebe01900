import Foundation
import XCTest
import PVecAlgebra
import PVecTensor

/// Iso-C, TSV-M and Model Stock against the numpy reference in fixtures/spectral
/// (scripts/make_spectral_fixtures.py).
///
/// Tolerance: both sides compute in Double and round to Float once, but their SVDs are
/// different algorithms (LAPACK dgesdd here, numpy's dgesdd through its own LAPACK there),
/// which agree to about 1e-13 relative on these well-conditioned matrices; so the results
/// differ by at most a Float rounding of the reference (half an ulp, ≈ 6e-8 relative) plus
/// noise far below it. 4 ulps of the largest entry (≈ 2.4e-7 · max|expected|) bounds that
/// with room and still fails on any real mistake (a wrong k, a missing λ, a transposed U).
final class SpectralMergeTests: XCTestCase {
    static let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("fixtures/spectral")

    func load(_ file: String) throws -> Tensor {
        try NPY.decode(Array(try Data(contentsOf: Self.directory.appendingPathComponent(file))))
    }

    func cases() throws -> [(name: String, method: String, operands: [Tensor], lambda: Float, expected: Tensor)] {
        let data = try Data(contentsOf: Self.directory.appendingPathComponent("cases.json"))
        let doc = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let inputs = try XCTUnwrap(doc["inputs"] as? [String: String])
        return try XCTUnwrap(doc["cases"] as? [[String: Any]]).map { c in
            let params = try XCTUnwrap(c["params"] as? [String: Any])
            return (try XCTUnwrap(c["name"] as? String), try XCTUnwrap(c["method"] as? String),
                    try XCTUnwrap(c["operands"] as? [String]).map { try load(try XCTUnwrap(inputs[$0])) },
                    Float((params["lambda"] as? NSNumber)?.doubleValue ?? 1),
                    try load(try XCTUnwrap(c["expected"] as? String)))
        }
    }

    func merge(_ method: String, _ x: [Tensor], lambda: Float) throws -> Tensor {
        switch method {
        case "isoC": return try Merge.isoC(x, lambda: lambda)
        case "tsv": return try Merge.tsv(x, lambda: lambda)
        case "modelStock": return try Merge.modelStock(x)
        default: XCTFail("unknown method \(method)"); return Tensor(zeros: [])
        }
    }

    func testEveryCaseMatchesTheNumpyReference() throws {
        let all = try cases()
        XCTAssertEqual(Set(all.map(\.method)), ["isoC", "tsv", "modelStock"])
        XCTAssertEqual(all.count, 8)
        for c in all {
            let got = try merge(c.method, c.operands, lambda: c.lambda)
            let scale = c.expected.scalars.reduce(0) { max($0, abs($1)) }
            XCTAssertGreaterThan(scale, 0.1, c.name)
            let d = maxDiff(got, c.expected)
            print("\(c.name): maxdiff \(d) (max |expected| \(scale))")
            assertClose(got, c.expected, tolerance: 4 * scale.ulp, c.name)
        }
    }

    /// The methods are not the plain sum: a test that passes on any output would pass here too.
    func testSpectralMergesDifferFromTaskArithmetic() throws {
        let c = try XCTUnwrap(try cases().first { $0.name == "iso_c_wide" })
        let sum = try Merge.taskArithmetic(c.operands)
        XCTAssertGreaterThan(maxDiff(try Merge.isoC(c.operands), sum), 0.1)
        XCTAssertGreaterThan(maxDiff(try Merge.tsv(c.operands), sum), 0.1)
    }

    /// `pvec verify` recomputes merges and compares bits: the same inputs give the same bits.
    func testRepeatedMergesAreBitIdentical() throws {
        for c in try cases() {
            let a = try merge(c.method, c.operands, lambda: c.lambda)
            let b = try merge(c.method, c.operands, lambda: c.lambda)
            assertBitIdentical(a, b, c.name)
        }
    }

    func testSVDFactorsRowMajorMatricesOfBothOrientations() throws {
        var rng = SplitMix64(seed: 3)
        for (m, n) in [(4, 9), (9, 4), (1, 5), (6, 6)] {
            let a = (0..<(m * n)).map { _ in Double(rng.nextFloat01()) - 0.5 }
            let d = try LAPACK.svd(a, rows: m, columns: n)
            XCTAssertEqual(d.rank, min(m, n))
            XCTAssertEqual(d.s, d.s.sorted(by: >))
            var worst = 0.0
            for i in 0..<m {
                for j in 0..<n {
                    var x = 0.0
                    for l in 0..<d.rank { x += d.u[i * d.rank + l] * d.s[l] * d.vt[l * n + j] }
                    worst = max(worst, abs(x - a[i * n + j]))
                }
            }
            XCTAssertLessThan(worst, 1e-12, "[\(m), \(n)]")
        }
    }

    func testSVDRefusesBadInputWithTypedErrors() {
        XCTAssertThrowsError(try LAPACK.svd([1, 2, 3], rows: 2, columns: 2)) { e in
            guard case TensorError.shapeMismatch = e else { return XCTFail("\(e)") }
        }
        XCTAssertThrowsError(try LAPACK.svd([1, .nan, 3, 4], rows: 2, columns: 2)) { e in
            guard case TensorError.nonFinite = e else { return XCTFail("\(e)") }
        }
    }

    func testBadOperandsAreRefused() throws {
        let a = Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])
        let b = Tensor(shape: [3, 2], scalars: [1, 2, 3, 4, 5, 6])
        for f in [{ try Merge.isoC([a, b]) }, { try Merge.tsv([a, b]) }, { try Merge.modelStock([a, b]) }] {
            XCTAssertThrowsError(try f()) { e in
                guard case AlgebraError.shapeMismatch = e else { return XCTFail("\(e)") }
            }
        }
        for f in [{ try Merge.isoC([a]) }, { try Merge.tsv([a]) }, { try Merge.modelStock([a]) }] {
            XCTAssertThrowsError(try f()) { e in
                guard case AlgebraError.tooFewOperands(_, 2, 1) = e else { return XCTFail("\(e)") }
            }
        }
        // A [2, 3] prompt has rank 2: three tasks cannot each keep a direction.
        XCTAssertThrowsError(try Merge.tsv([a, a, a])) { e in
            guard case AlgebraError.invalidParameter(_, "operands", "3", _) = e else { return XCTFail("\(e)") }
        }
        XCTAssertThrowsError(try Merge.isoC([a, Tensor(shape: [2, 3], scalars: [1, 2, .infinity, 4, 5, 6])])) { e in
            XCTAssertEqual(e as? AlgebraError, .nonFinite(operation: "merge iso-c", index: 1))
        }
        XCTAssertThrowsError(try Merge.modelStock([a, Tensor(zeros: [2, 3])])) { e in
            XCTAssertEqual(e as? AlgebraError, .zeroNorm(operation: "merge model-stock", index: 1))
        }
        // Opposite runs: cos θ = −1, so 1 + (N − 1) cos θ = 0 and t is undefined.
        XCTAssertThrowsError(try Merge.modelStock([a, TaskVector.negate(a)])) { e in
            guard case AlgebraError.invalidParameter(_, "mean cosine of the runs", _, _) = e else { return XCTFail("\(e)") }
        }
    }

    func testModelStockRatioIsThePapersFormula() {
        XCTAssertEqual(Merge.modelStockRatio(cosine: 1, count: 5), 1)
        XCTAssertEqual(Merge.modelStockRatio(cosine: 0, count: 3), 0)
        XCTAssertEqual(Merge.modelStockRatio(cosine: 0.5, count: 2), 2 * 0.5 / 1.5, accuracy: 1e-15)
    }
}
