import Foundation
import PVecTensor
import XCTest
@testable import PVecTrain

/// AdamW, the schedule and the scorer's gradient, against references computed here.
final class OptimTests: XCTestCase {
    func testAdamWMatchesDoubleReference() {
        var p = Tensor(shape: [1, 3], scalars: [0.5, -1, 2])
        var opt = AdamW(count: 3, weightDecay: 0.01)
        // Double reference of the same update rule.
        var rp: [Double] = [0.5, -1, 2], m = [0.0, 0, 0], v = [0.0, 0, 0]
        for t in 1...5 {
            let g = p.scalars.map { 2 * $0 }     // gradient of Σ x²
            let rg = rp.map { 2 * $0 }
            opt.step(&p, grad: Tensor(shape: [1, 3], scalars: g), lr: 0.1)
            for i in 0..<3 {
                m[i] = 0.9 * m[i] + 0.1 * rg[i]
                v[i] = 0.999 * v[i] + 0.001 * rg[i] * rg[i]
                let mh = m[i] / (1 - pow(0.9, Double(t))), vh = v[i] / (1 - pow(0.999, Double(t)))
                rp[i] -= 0.1 * (mh / (vh.squareRoot() + 1e-8) + 0.01 * rp[i])
            }
        }
        for i in 0..<3 { XCTAssertEqual(Double(p.scalars[i]), rp[i], accuracy: 1e-5) }
    }

    func testScheduleWarmsUpThenDecaysToZero() {
        var c = TrainConfig()
        c.learningRate = 1
        c.warmupFraction = 0.1
        XCTAssertEqual(c.learningRate(at: 0, total: 100), 0.1, accuracy: 1e-6)
        XCTAssertEqual(c.learningRate(at: 9, total: 100), 1, accuracy: 1e-6)
        XCTAssertEqual(c.learningRate(at: 10, total: 100), 1, accuracy: 1e-6)
        XCTAssertEqual(c.learningRate(at: 55, total: 100), 0.5, accuracy: 1e-6)
        XCTAssertEqual(c.learningRate(at: 99, total: 100), 1.0 / 90, accuracy: 1e-6)
        c.steps = nil
        c.epochs = 3
        c.batchSize = 16
        XCTAssertEqual(c.totalSteps(examples: 40), 8)
    }

    /// dL/df of the cosine-logit cross-entropy against central finite differences in Double.
    func testScorerGradientMatchesFiniteDifferences() throws {
        var g = SplitMix64(seed: 5)
        func unitRows(_ r: Int, _ c: Int) -> Tensor {
            var t = Tensor(shape: [r, c], scalars: (0..<(r * c)).map { _ in 2 * g.nextFloat01() - 1 })
            for i in 0..<r {
                let n = (0..<c).reduce(Float(0)) { $0 + t[i, $1] * t[i, $1] }.squareRoot()
                for j in 0..<c { t[i, j] /= n }
            }
            return t
        }
        let E = unitRows(3, 5), f = unitRows(4, 5), y = [0, 2, 1, 2]
        let scorer = LabelScorer(labelEmbeddings: E, temperature: 0.5)
        let (_, df, _) = try scorer.lossAndGradient(f, labels: y)
        func loss(_ x: [Double]) -> Double {
            var total = 0.0
            for b in 0..<4 {
                let z = (0..<3).map { l in (0..<5).reduce(0.0) { $0 + x[b * 5 + $1] * Double(E[l, $1]) } / 0.5 }
                let mx = z.max()!
                let lse = mx + log(z.reduce(0.0) { $0 + exp($1 - mx) })
                total += lse - z[y[b]]
            }
            return total / 4
        }
        let x0 = f.scalars.map(Double.init)
        var maxdiff = 0.0
        for i in 0..<x0.count {
            var xp = x0, xm = x0
            xp[i] += 1e-6
            xm[i] -= 1e-6
            let fd = (loss(xp) - loss(xm)) / 2e-6
            maxdiff = max(maxdiff, abs(fd - Double(df.scalars[i])))
        }
        print("scorer gradient maxdiff vs finite differences: \(maxdiff)")
        XCTAssertLessThan(maxdiff, 1e-5)
    }
}
