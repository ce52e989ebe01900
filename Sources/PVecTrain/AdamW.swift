import Foundation
import PVecTensor

/// AdamW (Loshchilov & Hutter 2019) for one parameter tensor, with decoupled weight decay.
///
/// θ ← θ − lr·(m̂ / (√v̂ + ε) + λ·θ), with bias-corrected moments m̂, v̂.
struct AdamW: Sendable {
    var beta1: Float = 0.9
    var beta2: Float = 0.999
    var epsilon: Float = 1e-8
    var weightDecay: Float
    /// First moment m, same shape as the parameter.
    var m: [Float]
    /// Second moment v.
    var v: [Float]
    /// Updates taken so far.
    var t: Int = 0

    init(count: Int, weightDecay: Float) {
        self.weightDecay = weightDecay
        m = [Float](repeating: 0, count: count)
        v = [Float](repeating: 0, count: count)
    }

    /// Applies one update in place.
    mutating func step(_ param: inout Tensor, grad: Tensor, lr: Float) {
        precondition(param.count == grad.count && param.count == m.count, "AdamW: shape mismatch")
        t += 1
        let c1 = 1 - pow(beta1, Float(t)), c2 = 1 - pow(beta2, Float(t))
        let (b1, b2, eps, wd) = (beta1, beta2, epsilon, weightDecay)
        m.withUnsafeMutableBufferPointer { m in
            v.withUnsafeMutableBufferPointer { v in
                grad.scalars.withUnsafeBufferPointer { g in
                    param.scalars.withUnsafeMutableBufferPointer { p in
                        for i in 0..<p.count {
                            m[i] = b1 * m[i] + (1 - b1) * g[i]
                            v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i]
                            let mh = m[i] / c1, vh = v[i] / c2
                            p[i] -= lr * (mh / (vh.squareRoot() + eps) + wd * p[i])
                        }
                    }
                }
            }
        }
    }
}
