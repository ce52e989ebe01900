import XCTest
import PVecAlgebra
import PVecTensor

/// Every case of fixtures/algebra against the numpy reference implementation.
final class ReferenceTests: XCTestCase {
    func run(_ c: FixtureCase) throws -> Tensor {
        let x = c.operands
        switch c.method {
        case "difference": return try TaskVector.difference(tuned: x[0], init: x[1])
        case "sum": return try TaskVector.sum(x, lambda: try c.float("lambda"))
        case "onto": return try TaskVector.onto(init: x[0], taus: Array(x.dropFirst()), lambda: try c.float("lambda"))
        case "linear": return try Merge.linear(x, weights: c.floats("weights"))
        case "taskArithmetic": return try Merge.taskArithmetic(x, weights: c.floats("weights"), lambda: try c.float("lambda"))
        case "magnitudePrune": return try Merge.magnitudePrune(x[0], density: try c.float("density"))
        case "ties": return try Merge.ties(x, density: try c.float("density"), lambda: try c.float("lambda"))
        case "dare":
            return try Merge.dare(x, dropRate: try c.float("dropRate"), seed: UInt64(try c.int("seed")),
                                  lambda: try c.float("lambda"), ties: try c.bool("ties"))
        case "slerp": return try Merge.slerp(x[0], x[1], t: try c.float("t"))
        case "cosineMatrix": return try Similarity.cosineMatrix(x)
        case "uniform":
            return InitGenerator.uniform(rows: try c.int("rows"), width: try c.int("width"),
                                         range: try c.float("range"), seed: UInt64(try c.int("seed")))
        case "vocabSample":
            return try InitGenerator.vocabSample(rows: try c.int("rows"), embeddingTable: x[0],
                                                 firstK: try c.int("firstK"), seed: UInt64(try c.int("seed")))
        default:
            XCTFail("unknown method \(c.method) in \(c.name)")
            return Tensor(zeros: [])
        }
    }

    func testEveryCaseMatchesTheNumpyReference() throws {
        let cases = try AlgebraFixtures.cases()
        XCTAssertGreaterThanOrEqual(cases.count, 20)
        var methods = Set<String>()
        for c in cases {
            let got = try run(c)
            methods.insert(c.method)
            if c.exact {
                assertBitIdentical(got, c.expected, c.name)
            } else {
                // Cosines come from BLAS (Float dot products over 80 entries).
                assertClose(got, c.expected, tolerance: c.method == "cosineMatrix" ? 2e-6 : 1e-6, c.name)
            }
            print("\(c.name): maxdiff \(maxDiff(got, c.expected))\(c.exact ? " (exact)" : "")")
        }
        XCTAssertEqual(methods, ["difference", "sum", "onto", "linear", "taskArithmetic", "magnitudePrune",
                                 "ties", "dare", "slerp", "cosineMatrix", "uniform", "vocabSample"])
    }

    func testDareMasksAreExactlyTheReferenceMasks() throws {
        let dares = try AlgebraFixtures.cases().filter { $0.method == "dare" }
        XCTAssertEqual(dares.count, 2)
        for c in dares {
            let sparse = try Merge.dareSparsify(c.operands, dropRate: try c.float("dropRate"), seed: UInt64(try c.int("seed")))
            let masks = try c.tensors("masks"), references = try c.tensors("sparse")
            XCTAssertEqual(sparse.count, masks.count)
            var dropped = 0
            for (i, (s, m)) in zip(sparse, masks).enumerated() {
                XCTAssertEqual(s.scalars.map { $0 != 0 ? Float(1) : 0 }, m.scalars, "\(c.name) mask \(i)")
                dropped += m.scalars.filter { $0 == 0 }.count
                assertClose(s, references[i], "\(c.name) rescaled \(i)")
            }
            // The masks drop roughly p of the entries: a sanity check on the fixture itself.
            let fraction = Double(dropped) / Double(masks.count * masks[0].count)
            XCTAssertEqual(fraction, Double(try c.float("dropRate")), accuracy: 0.15, c.name)
        }
    }

    /// The stacked entry point (rows read straight from the store) is the same computation:
    /// the numpy reference within tolerance, and the tensor path's matrix bit for bit.
    func testStackedCosineMatrixIsTheTensorPathsMatrixBitForBit() throws {
        let c = try XCTUnwrap(try AlgebraFixtures.cases().first { $0.method == "cosineMatrix" })
        let d = c.operands[0].count
        var x = c.operands.flatMap(\.scalars)
        let stacked = try Similarity.cosineMatrix(stacked: &x, n: c.operands.count, d: d)
        assertClose(stacked, c.expected, tolerance: 2e-6, c.name)
        XCTAssertEqual(stacked.scalars.map(\.bitPattern), try Similarity.cosineMatrix(c.operands).scalars.map(\.bitPattern))
        var zero = x
        for j in d..<(2 * d) { zero[j] = 0 }
        XCTAssertThrowsError(try Similarity.cosineMatrix(stacked: &zero, n: c.operands.count, d: d)) {
            guard case AlgebraError.zeroNorm(_, let index) = $0 else { return XCTFail("\($0)") }
            XCTAssertEqual(index, 1)
        }
    }

    func testCosineAgreesWithTheMatrix() throws {
        let c = try XCTUnwrap(try AlgebraFixtures.cases().first { $0.method == "cosineMatrix" })
        let n = c.operands.count
        for i in 0..<n {
            for j in 0..<n {
                XCTAssertEqual(try Similarity.cosine(c.operands[i], c.operands[j]), c.expected[i, j], accuracy: 2e-6)
            }
        }
    }
}
