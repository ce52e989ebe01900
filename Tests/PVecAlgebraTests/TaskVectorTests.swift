import XCTest
import PVecAlgebra
import PVecTensor

final class TaskVectorTests: XCTestCase {
    private func v(_ xs: [Float]) -> Tensor { Tensor(shape: [xs.count], scalars: xs) }

    func testArithmetic() throws {
        let tuned = v([1.5, -2, 0.25]), initial = v([0.5, 1, 0.25])
        let tau = try TaskVector.difference(tuned: tuned, init: initial)
        XCTAssertEqual(tau.scalars, [1, -3, 0])
        XCTAssertEqual(try TaskVector.onto(init: initial, taus: [tau]), tuned, "init + (tuned − init) = tuned here")
        XCTAssertEqual(try TaskVector.subtract(tuned, initial), tau)
        XCTAssertEqual(TaskVector.scale(tau, by: 2).scalars, [2, -6, 0])
        XCTAssertEqual(TaskVector.negate(tau).scalars, [-1, 3, -0.0])
        XCTAssertEqual(try TaskVector.sum([tau, tau, v([1, 1, 1])], lambda: 0.5).scalars, [1.5, -2.5, 0.5])
    }

    func testSumIsLeftToRightThenScaled() throws {
        // (1e8 + 1) + (−1e8) = 0 in Float, while 1 + (1e8 − 1e8) = 1: the order is observable.
        let taus = [v([1e8]), v([1]), v([-1e8])]
        XCTAssertEqual(try TaskVector.sum(taus).scalars, [0])
        XCTAssertEqual(try TaskVector.sum([taus[0], taus[2], taus[1]]).scalars, [1])
        // λ applies once to the finished sum: λ·(a + b), not λa + λb.
        let a: Float = 0.1, b: Float = 0.2, lambda: Float = 0.3
        XCTAssertEqual(try TaskVector.sum([v([a]), v([b])], lambda: lambda).scalars[0], lambda * (a + b))
        // onto adds the init last.
        let i: Float = 0.7
        XCTAssertEqual(try TaskVector.onto(init: v([i]), taus: [v([a]), v([b])], lambda: lambda).scalars[0],
                       i + lambda * (a + b))
    }
}
