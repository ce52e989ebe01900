import Foundation

extension BertKernels {
    /// inp: [N] -> out: [N] = x Φ(x) = x/2 (1 + erf(x/√2)), the exact (erf) GELU BERT uses.
    static func geluForward(out: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, count: Int) {
        let invSqrt2: Float = 0.70710678118654752
        for i in 0..<count {
            let x = inp[i]
            out[i] = 0.5 * x * (1 + erf(x * invSqrt2))
        }
    }

    /// dout: [N] -> dinp: [N] += dout (Φ(x) + x φ(x)), given the forward's inp: [N].
    static func geluBackward(dinp: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>,
                             dout: UnsafePointer<Float>, count: Int) {
        let invSqrt2: Float = 0.70710678118654752
        let invSqrt2Pi: Float = 0.39894228040143268
        for i in 0..<count {
            let x = inp[i]
            let cdf = 0.5 * (1 + erf(x * invSqrt2))
            let pdf = invSqrt2Pi * exp(-0.5 * x * x)
            dinp[i] += dout[i] * (cdf + x * pdf)
        }
    }
}
