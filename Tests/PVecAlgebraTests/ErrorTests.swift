import XCTest
import PVecAlgebra
import PVecTensor

final class ErrorTests: XCTestCase {
    private let a = Tensor(zeros: [2, 3])
    private let b = Tensor(zeros: [3, 2])
    private let x = Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])

    private func assertError(_ body: @autoclosure () throws -> Any, _ check: (AlgebraError) -> Bool,
                             file: StaticString = #filePath, line: UInt = #line) {
        do {
            _ = try body()
            XCTFail("nothing was thrown", file: file, line: line)
        } catch let e as AlgebraError {
            XCTAssertTrue(check(e), "unexpected \(e)", file: file, line: line)
            XCTAssertFalse((e.errorDescription ?? "").isEmpty, file: file, line: line)
        } catch {
            XCTFail("not an AlgebraError: \(error)", file: file, line: line)
        }
    }

    private func isShape(_ e: AlgebraError) -> Bool { if case .shapeMismatch = e { return true }; return false }
    private func isFew(_ e: AlgebraError) -> Bool { if case .tooFewOperands = e { return true }; return false }
    private func isParam(_ e: AlgebraError) -> Bool { if case .invalidParameter = e { return true }; return false }
    private func isZero(_ e: AlgebraError) -> Bool { if case .zeroNorm = e { return true }; return false }
    private func isNonFinite(_ e: AlgebraError) -> Bool { if case .nonFinite = e { return true }; return false }

    func testShapeMismatchEverywhere() {
        assertError(try TaskVector.difference(tuned: a, init: b), isShape)
        assertError(try TaskVector.subtract(a, b), isShape)
        assertError(try TaskVector.sum([a, a, b]), isShape)
        assertError(try TaskVector.onto(init: b, taus: [a]), isShape)
        assertError(try Merge.linear([a, b]), isShape)
        assertError(try Merge.taskArithmetic([a, b]), isShape)
        assertError(try Merge.ties([a, b], density: 0.5), isShape)
        assertError(try Merge.dare([a, b], dropRate: 0.5, seed: 1), isShape)
        assertError(try Merge.slerp(a, b, t: 0.5), isShape)
        assertError(try Similarity.cosine(x, b), isShape)
        assertError(try Similarity.cosineMatrix([x, b]), isShape)
        do {
            _ = try TaskVector.sum([a, a, b])
        } catch {
            XCTAssertEqual(error as? AlgebraError, .shapeMismatch(operation: "add", expected: [2, 3], found: [3, 2], index: 2))
        }
    }

    func testTooFewOperands() {
        assertError(try TaskVector.sum([]), isFew)
        assertError(try Merge.linear([]), isFew)
        assertError(try Merge.ties([], density: 1), isFew)
        assertError(try Merge.dare([], dropRate: 0.1, seed: 0), isFew)
        assertError(try Similarity.cosineMatrix([]), isFew)
    }

    func testInvalidParameters() {
        assertError(try Merge.magnitudePrune(x, density: 1.5), isParam)
        assertError(try Merge.ties([x], density: -0.1), isParam)
        assertError(try Merge.ties([x], density: .nan), isParam)
        assertError(try Merge.dare([x], dropRate: 1, seed: 0), isParam)
        assertError(try Merge.dare([x], dropRate: -0.5, seed: 0), isParam)
        assertError(try Merge.linear([x, x], weights: [1]), isParam)
        assertError(try Merge.linear([x, x], weights: [1, -1]), isParam)
        assertError(try Merge.linear([x], weights: [.infinity]), isParam)
        assertError(try TaskVector.sum([x], lambda: .nan), isParam)
        assertError(try Merge.slerp(x, x, t: .infinity), isParam)
        let table = Tensor(zeros: [10, 4])
        assertError(try InitGenerator.vocabSample(rows: 11, embeddingTable: table, seed: 0), isParam)
        assertError(try InitGenerator.vocabSample(rows: 6, embeddingTable: table, firstK: 5, seed: 0), isParam)
        assertError(try InitGenerator.vocabSample(rows: 1, embeddingTable: Tensor(zeros: [10]), seed: 0), isParam)
        assertError(try InitGenerator.vocabSample(rows: 1, embeddingTable: table, firstK: 0, seed: 0), isParam)
    }

    func testZeroNormAndNonFinite() {
        assertError(try Similarity.cosine(x, a), isZero)
        assertError(try Similarity.cosineMatrix([x, a]), isZero)
        var bad = x
        bad.scalars[2] = .nan
        assertError(try Merge.ties([x, bad], density: 0.5), isNonFinite)
        assertError(try Merge.magnitudePrune(bad, density: 0.5), isNonFinite)
        assertError(try Merge.slerp(x, bad, t: 0.5), isNonFinite)
        assertError(try Merge.dare([bad], dropRate: 0.5, seed: 1, ties: true), isNonFinite)
    }
}
