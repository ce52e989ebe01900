import XCTest
@testable import PVecTensor

final class BLASTests: XCTestCase {
    private func random(_ shape: Shape, seed: UInt64) -> Tensor {
        var g = SplitMix64(seed: seed)
        return Tensor(shape: shape, scalars: (0..<shape.count).map { _ in g.nextFloat01() * 2 - 1 })
    }

    /// Naive triple loop in Double, the reference.
    private func naive(_ a: [Float], _ b: [Float], m: Int, n: Int, k: Int,
                       transA: Bool, transB: Bool) -> [Double] {
        var c = [Double](repeating: 0, count: m * n)
        for i in 0..<m {
            for j in 0..<n {
                var s = 0.0
                for p in 0..<k {
                    let x = transA ? a[p * m + i] : a[i * k + p]
                    let y = transB ? b[j * k + p] : b[p * n + j]
                    s += Double(x) * Double(y)
                }
                c[i * n + j] = s
            }
        }
        return c
    }

    private func maxDiff(_ a: [Float], _ b: [Double]) -> Double {
        zip(a, b).map { abs(Double($0) - $1) }.max() ?? 0
    }

    func testSgemmMatchesNaiveLoopInEveryTransposition() {
        let (m, n, k) = (7, 5, 11)
        for transA in [false, true] {
            for transB in [false, true] {
                let a = random([m * k], seed: 1).scalars, b = random([k * n], seed: 2).scalars
                var c = [Float](repeating: 1, count: m * n)    // beta = 0 must overwrite this
                BLAS.sgemm(transA: transA, transB: transB, m: m, n: n, k: k, a: a, b: b, c: &c)
                let d = maxDiff(c, naive(a, b, m: m, n: n, k: k, transA: transA, transB: transB))
                XCTAssertLessThan(d, 1e-5, "transA \(transA) transB \(transB): maxdiff \(d)")
            }
        }
    }

    func testSgemmAlphaBeta() {
        let a = random([3 * 4], seed: 3).scalars, b = random([4 * 2], seed: 4).scalars
        var c = [Float](repeating: 1, count: 6)
        BLAS.sgemm(m: 3, n: 2, k: 4, alpha: 2, a: a, b: b, beta: 0.5, c: &c)
        let ref = naive(a, b, m: 3, n: 2, k: 4, transA: false, transB: false).map { 2 * $0 + 0.5 }
        XCTAssertLessThan(maxDiff(c, ref), 1e-5)
    }

    func testMatmulAndTransposedMatmul() throws {
        let a = random([4, 6], seed: 5), b = random([6, 3], seed: 6)
        let c = try a.matmul(b)
        XCTAssertEqual(c.shape, [4, 3])
        XCTAssertLessThan(maxDiff(c.scalars, naive(a.scalars, b.scalars, m: 4, n: 3, k: 6, transA: false, transB: false)), 1e-5)
        let bt = random([3, 6], seed: 7)
        let d = try a.matmul(bt, transposeOther: true)
        XCTAssertLessThan(maxDiff(d.scalars, naive(a.scalars, bt.scalars, m: 4, n: 3, k: 6, transA: false, transB: true)), 1e-5)
        XCTAssertThrowsError(try a.matmul(a))
        XCTAssertEqual(try Tensor(zeros: [0, 6]).matmul(b).shape, [0, 3])
    }

    func testDotNorm2AxpyScal() throws {
        let x = random([1000], seed: 8), y = random([1000], seed: 9)
        let dotRef = zip(x.scalars, y.scalars).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        XCTAssertEqual(Double(try x.dot(y)), dotRef, accuracy: 1e-4)
        let normRef = x.scalars.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
        XCTAssertEqual(Double(x.norm), normRef, accuracy: 1e-4)
        XCTAssertEqual(Tensor(shape: [2], scalars: [3, 4]).norm, 5)
        // snrm2 scales to avoid overflow where a naive sum of squares would not.
        XCTAssertEqual(Tensor(shape: [2], scalars: [3e30, 4e30]).norm, 5e30, accuracy: 1e24)
        XCTAssertThrowsError(try x.dot(Tensor(zeros: [3])))
        XCTAssertEqual(try Tensor(zeros: [0]).dot(Tensor(zeros: [0])), 0)
        XCTAssertEqual(Tensor(zeros: [0]).norm, 0)

        var z = Tensor(shape: [3], scalars: [1, 2, 3])
        try z.axpy(2, Tensor(shape: [3], scalars: [1, 1, 1]))
        XCTAssertEqual(z.scalars, [3, 4, 5])
        z.scal(-1)
        XCTAssertEqual(z.scalars, [-3, -4, -5])
        XCTAssertThrowsError(try z.axpy(1, Tensor(zeros: [2])))
    }

    func testSgemv() {
        let a = random([3 * 5], seed: 10).scalars, x = random([5], seed: 11).scalars
        var y = [Float](repeating: 0, count: 3)
        BLAS.sgemv(m: 3, n: 5, a: a, x: x, y: &y)
        let ref = naive(a, x, m: 3, n: 1, k: 5, transA: false, transB: false)
        XCTAssertLessThan(maxDiff(y, ref), 1e-5)
        var yt = [Float](repeating: 0, count: 5)
        BLAS.sgemv(trans: true, m: 3, n: 5, a: a, x: Array(x.prefix(3)), y: &yt)
        let reft = naive(a, Array(x.prefix(3)), m: 5, n: 1, k: 3, transA: true, transB: false)
        XCTAssertLessThan(maxDiff(yt, reft), 1e-5)
        XCTAssertFalse(BLAS.configuration.isEmpty)
    }
}
