import XCTest
@testable import PVecTensor

final class TensorTests: XCTestCase {
    func testShapeViews() {
        let s: Shape = [2, 3, 4]
        XCTAssertEqual(s.count, 24)
        XCTAssertEqual(s.rank, 3)
        XCTAssertEqual(s.rows, 6)
        XCTAssertEqual(s.width, 4)
        XCTAssertEqual(s.description, "[2, 3, 4]")
        XCTAssertEqual(Shape([]).count, 1)
        XCTAssertEqual(Shape([]).rows, 1)
        XCTAssertEqual(Shape([5]).rows, 1)
        XCTAssertEqual(Shape([0, 7]).count, 0)
    }

    func testShapeCodableIsAPlainArray() throws {
        let data = try JSONEncoder().encode(Shape([100, 768]))
        XCTAssertEqual(String(decoding: data, as: UTF8.self), "[100,768]")
        XCTAssertEqual(try JSONDecoder().decode(Shape.self, from: data), [100, 768])
    }

    func testSubscriptAndReshape() throws {
        var t = Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])
        XCTAssertEqual(t[1, 2], 6)
        t[0, 1] = 9
        XCTAssertEqual(t.scalars, [1, 9, 3, 4, 5, 6])
        let r = try t.reshaped([3, 2])
        XCTAssertEqual(r[2, 0], 5)
        XCTAssertThrowsError(try t.reshaped([4])) { XCTAssertTrue(TensorErrorKind.shapeMismatch.matches($0)) }
    }

    func testFiniteChecks() {
        XCTAssertTrue(Tensor(zeros: [3]).isFinite)
        XCTAssertNoThrow(try Tensor(zeros: [3]).checkFinite("x"))
        for bad: Float in [.nan, .infinity, -.infinity] {
            let t = Tensor(shape: [2], scalars: [1, bad])
            XCTAssertFalse(t.isFinite)
            assertThrows(.nonFinite, try t.checkFinite("prompt"))
        }
    }

    func testElementwiseArithmetic() throws {
        let a = Tensor(shape: [2, 2], scalars: [1, 2, 3, 4])
        let b = Tensor(shape: [2, 2], scalars: [0.5, -1, 0, 8])
        XCTAssertEqual(try a.adding(b).scalars, [1.5, 1, 3, 12])
        XCTAssertEqual(try a.subtracting(b).scalars, [0.5, 3, 3, -4])
        XCTAssertEqual(a.scaled(by: -2).scalars, [-2, -4, -6, -8])
        XCTAssertEqual(a.negated().scalars, [-1, -2, -3, -4])
        assertThrows(.shapeMismatch, try a.adding(Tensor(zeros: [4])))
        assertThrows(.shapeMismatch, try a.subtracting(Tensor(zeros: [2, 3])))
    }

    func testElementwiseIsCorrectlyRoundedPerOperation() throws {
        // One rounding per elementwise op: a + b of two Floats equals the Double sum rounded once.
        var g = SplitMix64(seed: 11)
        let a = Tensor(shape: [256], scalars: (0..<256).map { _ in g.nextFloat01() * 1000 - 500 })
        let b = Tensor(shape: [256], scalars: (0..<256).map { _ in g.nextFloat01() / 1000 })
        let sum = try a.adding(b)
        for i in 0..<256 {
            XCTAssertEqual(sum.scalars[i], Float(Double(a.scalars[i]) + Double(b.scalars[i])))
        }
    }
}
