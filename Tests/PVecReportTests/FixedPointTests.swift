import Foundation
import PVecReport
import PVecTensor
import XCTest

/// `FixedPoint.format4` against printf's `%.4f` on values where the two could part: random
/// floats of every scale and sign, exact ties at the fourth decimal, tiny negatives, ±0, the
/// non-finite values and numbers too large for the fast path.
final class FixedPointTests: XCTestCase {
    func testMatchesPrintfEverywhere() {
        var rng = SplitMix64(seed: 11)
        var values: [Float] = [0, -0, 1, -1, 0.5, -0.5, 0.00005, -0.00005, 0.00004999, -0.00001, 1e-30, -1e-30,
                               0.12345, 0.99995, -0.99995, 123456.78, 1e20, -3e38, .infinity, -.infinity, .nan,
                               Float.leastNonzeroMagnitude, -Float.greatestFiniteMagnitude]
        // Exact ties: k + 0.5 ten-thousandths that a Float holds exactly (multiples of 2⁻ⁿ).
        for k in 0..<64 { values.append(Float(k) / 32); values.append(-Float(k) / 64 - 0.03125 / 2) }
        for _ in 0..<200_000 {
            let u = rng.nextFloat01() * 2 - 1
            let scale = Float(pow(10, Double(Int(rng.nextBelow(9))) - 6))
            values.append(u * scale)
        }
        var mismatches: [String] = []
        for x in values {
            let want = String(format: "%.4f", x)
            let got = FixedPoint.format4(x)
            if got != want { mismatches.append("\(x): \(got) vs \(want)") }
        }
        XCTAssertEqual(mismatches.count, 0, mismatches.prefix(5).joined(separator: "; "))
    }
}
