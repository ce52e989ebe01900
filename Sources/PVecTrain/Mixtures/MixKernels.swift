import Foundation
import PVecTensor

/// Forward/backward pairs for the small trained modules of the composition methods (ATTEMPT's
/// attention, DAM, ComPT's prompt encoders), on row-major Float32 arrays.
///
/// Unlike the frozen backbone, these modules learn, so backward computes weight gradients.
/// Conventions as in llm.c: a doc comment gives the shapes, backward adds (`+=`) into gradient
/// buffers that the caller clears, and a forward returns what its backward needs. Linear
/// layers use the math layout y = x W with W: [IN, OUT] (the papers' W_down d→r is [d, r]).
enum MixKernels {
    // MARK: - Linear

    /// x: [N, IN], W: [IN, OUT], bias: [OUT] or nil -> y: [N, OUT] = x W + bias.
    static func linearForward(_ x: [Float], _ W: [Float], bias: [Float]? = nil, N: Int, IN: Int, OUT: Int) -> [Float] {
        precondition(x.count == N * IN && W.count == IN * OUT, "linear: shape mismatch")
        var y = [Float](repeating: 0, count: N * OUT)
        if let bias {
            for n in 0..<N { for o in 0..<OUT { y[n * OUT + o] = bias[o] } }
        }
        guard N > 0 && IN > 0 && OUT > 0 else { return y }
        x.withUnsafeBufferPointer { xp in
            W.withUnsafeBufferPointer { wp in
                y.withUnsafeMutableBufferPointer { yp in
                    BLAS.sgemm(m: N, n: OUT, k: IN, a: xp.baseAddress!, b: wp.baseAddress!,
                               beta: bias == nil ? 0 : 1, c: yp.baseAddress!)
                }
            }
        }
        return y
    }

    /// dy: [N, OUT] -> dx: [N, IN] += dy Wᵀ.
    static func linearBackwardInput(_ dx: inout [Float], dy: [Float], W: [Float], N: Int, IN: Int, OUT: Int) {
        guard N > 0 && IN > 0 && OUT > 0 else { return }
        dy.withUnsafeBufferPointer { dyp in
            W.withUnsafeBufferPointer { wp in
                dx.withUnsafeMutableBufferPointer { dxp in
                    BLAS.sgemm(transB: true, m: N, n: IN, k: OUT, a: dyp.baseAddress!, b: wp.baseAddress!,
                               beta: 1, c: dxp.baseAddress!)
                }
            }
        }
    }

    /// dy: [N, OUT], x: [N, IN] -> dW: [IN, OUT] += xᵀ dy, and dbias: [OUT] += Σ_n dy_n.
    static func linearBackwardWeight(_ dW: inout [Float], dbias: UnsafeMutableBufferPointer<Float>? = nil,
                                     dy: [Float], x: [Float], N: Int, IN: Int, OUT: Int) {
        guard N > 0 && IN > 0 && OUT > 0 else { return }
        x.withUnsafeBufferPointer { xp in
            dy.withUnsafeBufferPointer { dyp in
                dW.withUnsafeMutableBufferPointer { dwp in
                    BLAS.sgemm(transA: true, m: IN, n: OUT, k: N, a: xp.baseAddress!, b: dyp.baseAddress!,
                               beta: 1, c: dwp.baseAddress!)
                }
            }
        }
        if let dbias {
            for n in 0..<N { for o in 0..<OUT { dbias[o] += dy[n * OUT + o] } }
        }
    }

    // MARK: - LayerNorm

    /// x: [N, C] -> y: [N, C] = (x − mean) · rstd · gain + bias, with mean, rstd: [N].
    static func layernormForward(_ x: [Float], gain: [Float], bias: [Float], N: Int, C: Int,
                                 eps: Float = 1e-5) -> (y: [Float], mean: [Float], rstd: [Float]) {
        var y = [Float](repeating: 0, count: N * C)
        var mean = [Float](repeating: 0, count: N), rstd = [Float](repeating: 0, count: N)
        for n in 0..<N {
            var mu: Float = 0
            for c in 0..<C { mu += x[n * C + c] }
            mu /= Float(C)
            var v: Float = 0
            for c in 0..<C { let d = x[n * C + c] - mu; v += d * d }
            let r = 1 / (v / Float(C) + eps).squareRoot()
            mean[n] = mu
            rstd[n] = r
            for c in 0..<C { y[n * C + c] = (x[n * C + c] - mu) * r * gain[c] + bias[c] }
        }
        return (y, mean, rstd)
    }

    /// dy: [N, C] -> dx: [N, C] +=, dgain: [C] +=, dbias: [C] +=.
    static func layernormBackward(dx: inout [Float], dgain: inout [Float], dbias: inout [Float], dy: [Float],
                                  x: [Float], mean: [Float], rstd: [Float], gain: [Float], N: Int, C: Int) {
        for n in 0..<N {
            var dnormMean: Float = 0, dnormNormMean: Float = 0
            for c in 0..<C {
                let norm = (x[n * C + c] - mean[n]) * rstd[n]
                let dnorm = gain[c] * dy[n * C + c]
                dnormMean += dnorm
                dnormNormMean += dnorm * norm
                dbias[c] += dy[n * C + c]
                dgain[c] += norm * dy[n * C + c]
            }
            dnormMean /= Float(C)
            dnormNormMean /= Float(C)
            for c in 0..<C {
                let norm = (x[n * C + c] - mean[n]) * rstd[n]
                let dnorm = gain[c] * dy[n * C + c]
                dx[n * C + c] += (dnorm - dnormMean - norm * dnormNormMean) * rstd[n]
            }
        }
    }

    // MARK: - Activations

    /// x -> x · σ(x) (SiLU, as ATTEMPT's attention module uses).
    static func siluForward(_ x: [Float]) -> [Float] {
        x.map { $0 / (1 + Foundation.exp(-$0)) }
    }

    /// dy -> dx += dy · σ(x) (1 + x (1 − σ(x))).
    static func siluBackward(_ dx: inout [Float], dy: [Float], x: [Float]) {
        for i in x.indices {
            let s = 1 / (1 + Foundation.exp(-x[i]))
            dx[i] += dy[i] * s * (1 + x[i] * (1 - s))
        }
    }

    /// x -> 0.5 x (1 + erf(x / √2)) (exact GELU, as PyTorch's default).
    static func geluForward(_ x: [Float]) -> [Float] {
        x.map { 0.5 * $0 * (1 + Foundation.erf($0 * Float(0.5).squareRoot())) }
    }

    /// dy -> dx += dy · (Φ(x) + x φ(x)).
    static func geluBackward(_ dx: inout [Float], dy: [Float], x: [Float]) {
        let invSqrt2 = Float(0.5).squareRoot(), invSqrt2Pi = 1 / Float(2 * Float.pi).squareRoot()
        for i in x.indices {
            let v = x[i]
            let cdf = 0.5 * (1 + Foundation.erf(v * invSqrt2))
            dx[i] += dy[i] * (cdf + v * Foundation.exp(-0.5 * v * v) * invSqrt2Pi)
        }
    }

    // MARK: - Softmax and pooling

    /// x: [N, K] -> softmax over each row.
    static func softmaxRows(_ x: [Float], N: Int, K: Int) -> [Float] {
        var y = x
        for n in 0..<N {
            var mx = -Float.infinity
            for k in 0..<K { mx = max(mx, x[n * K + k]) }
            var s: Float = 0
            for k in 0..<K { let e = Foundation.exp(x[n * K + k] - mx); y[n * K + k] = e; s += e }
            for k in 0..<K { y[n * K + k] /= s }
        }
        return y
    }

    /// dy: [N, K] -> dx: [N, K] += y ⊙ (dy − (y · dy)) for y = softmax rows.
    static func softmaxRowsBackward(_ dx: inout [Float], dy: [Float], y: [Float], N: Int, K: Int) {
        for n in 0..<N {
            var dot: Float = 0
            for k in 0..<K { dot += y[n * K + k] * dy[n * K + k] }
            for k in 0..<K { dx[n * K + k] += y[n * K + k] * (dy[n * K + k] - dot) }
        }
    }

    /// x: [R, C] -> y: [C], the maximum of each column over the rows, and the row it came from.
    static func maxPoolRows(_ x: UnsafeBufferPointer<Float>, R: Int, C: Int) -> (y: [Float], arg: [Int]) {
        precondition(R > 0, "max-pool over no rows")
        var y = Array(x[0..<C]), arg = [Int](repeating: 0, count: C)
        for r in 1..<max(R, 1) {
            for c in 0..<C where x[r * C + c] > y[c] {
                y[c] = x[r * C + c]
                arg[c] = r
            }
        }
        return (y, arg)
    }

    static func maxPoolRows(_ x: [Float], R: Int, C: Int) -> (y: [Float], arg: [Int]) {
        x.withUnsafeBufferPointer { maxPoolRows($0, R: R, C: C) }
    }

    // MARK: - Small helpers

    static func dot(_ a: UnsafeBufferPointer<Float>, _ b: UnsafeBufferPointer<Float>) -> Float {
        precondition(a.count == b.count)
        return BLAS.sdot(n: a.count, x: a.baseAddress!, y: b.baseAddress!)
    }

    /// Uniform in [−bound, bound), seeded: PyTorch's default `nn.Linear` init uses bound = 1/√IN.
    static func uniform(_ count: Int, bound: Float, rng: inout SplitMix64) -> [Float] {
        (0..<count).map { _ in bound * (2 * rng.nextFloat01() - 1) }
    }

    /// The global L2 norm of several gradient arrays.
    static func globalNorm(_ arrays: [[Float]]) -> Float {
        var s: Double = 0
        for a in arrays { for v in a { s += Double(v) * Double(v) } }
        return Float(s.squareRoot())
    }
}
