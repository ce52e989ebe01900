import Foundation
import PVecTensor

/// AMP's attention between prompt matrices, DAM: each target prompt is an attention-weighted
/// mixture of the (projected) source prompts, with one attention score per pair of prompts.
///
/// (The attention-based multi-task prompt composition of the "AMP" issue, after the block-level
/// prompt attention of Wang et al.'s mixture designs; the shapes and the mean/max block scores
/// are those the issue specifies.) For n frozen source prompts P_i `[l, d]` stacked into
/// P' `[n·l, d]`:
/// ```
/// Q = P' W_Q,  K = P' W_K   [n·l, k]     W_Q, W_K: [d, k]
/// V = P' W_V                [n·l, d]     W_V: [d, d]
/// S = Q Kᵀ                  [n·l, n·l]
/// S'_ij = (1/l²) Σ_{a∈i, b∈j} S_ab       [n, n]   (mean block score)
///   or   max-pool_rows(Q_i) · max-pool_rows(K_j)  (the max-pool variant)
/// A = softmax over each row of S'
/// T_i = Σ_j A_ij V_j        [l, d]       (as one gemm: T [n, l·d] = A · V [n, l·d])
/// ```
/// Note the identity S'_ij = mean_rows(Q_i) · mean_rows(K_j): the mean block score needs no
/// n·l × n·l matrix at all; `blockScoresLoop` and the full gemm are kept to measure that.
/// Only W_Q, W_K, W_V learn. The scores have no 1/√k scale (as specified), so with tuned prompts
/// (rows of norm ≫ 1) a random W_Q saturates the softmax at once and stops its gradient: W_Q
/// starts at zero (uniform attention; dW_Q = P'ᵀ dS K is not zero, and W_K's gradient follows as
/// soon as W_Q moves), W_K uniform in ±1/√d, and W_V as the identity, so each target starts as
/// the mean of the sources themselves.
public struct DAMModule: Sendable, Equatable {
    public enum Pooling: String, Sendable, CaseIterable {
        /// Block score = mean of the l×l block of S (the DAM of the issue).
        case mean
        /// Block score = dot of the max-pooled rows of Q_i and K_j (the variant DAM is compared with).
        case max
    }

    let width: Int        // d
    let keyWidth: Int     // k
    var pooling: Pooling
    var wQ: [Float]       // [d, k]
    var wK: [Float]       // [d, k]
    var wV: [Float]       // [d, d]

    public init(width d: Int, keyWidth k: Int, pooling: Pooling, seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        width = d
        keyWidth = k
        self.pooling = pooling
        let bound = 1 / Float(d).squareRoot()
        wQ = [Float](repeating: 0, count: d * k)
        wK = MixKernels.uniform(d * k, bound: bound, rng: &rng)
        wV = [Float](repeating: 0, count: d * d)
        for i in 0..<d { wV[i * d + i] = 1 }
    }

    init(tensors: [String: Tensor], pooling: Pooling) throws {
        guard let q = tensors["W_Q"], let k = tensors["W_K"], let v = tensors["W_V"], q.shape.rank == 2,
              k.shape == q.shape, v.shape.dims == [q.shape.dims[0], q.shape.dims[0]] else {
            throw TrainError.badModule("a DAM module needs W_Q [d, k], W_K [d, k] and W_V [d, d]")
        }
        width = q.shape.dims[0]
        keyWidth = q.shape.dims[1]
        self.pooling = pooling
        wQ = q.scalars
        wK = k.scalars
        wV = v.scalars
    }

    var tensors: [String: Tensor] {
        ["W_Q": Tensor(shape: [width, keyWidth], scalars: wQ), "W_K": Tensor(shape: [width, keyWidth], scalars: wK),
         "W_V": Tensor(shape: [width, width], scalars: wV)]
    }

    // MARK: - Forward

    struct Cache {
        var n: Int, l: Int
        var stacked: [Float]    // P' [n·l, d]
        var Q: [Float]          // [n·l, k]
        var K: [Float]          // [n·l, k]
        var V: [Float]          // [n·l, d]
        var A: [Float]          // [n, n]
        var qhat: [Float] = []  // max variant: [n, k]
        var khat: [Float] = []  // [n, k]
        var qArg: [Int] = []    // [n, k] row within block i
        var kArg: [Int] = []
    }

    /// sources: n × [l, d] -> targets n × [l, d], attention A [n, n] (row i: target i over sources j).
    public func forward(sources: [Tensor]) -> (targets: [Tensor], attention: [Float]) {
        let (t, a, _) = forwardCached(sources: sources)
        return (t, a)
    }

    func forwardCached(sources: [Tensor]) -> (targets: [Tensor], attention: [Float], cache: Cache) {
        let n = sources.count, l = sources[0].shape.rows, d = width, k = keyWidth, R = n * l
        precondition(sources.allSatisfy { $0.shape.dims == [l, d] }, "DAM: every source must be [\(l), \(d)]")
        let stacked = sources.flatMap(\.scalars)
        let Q = MixKernels.linearForward(stacked, wQ, N: R, IN: d, OUT: k)
        let K = MixKernels.linearForward(stacked, wK, N: R, IN: d, OUT: k)
        let V = MixKernels.linearForward(stacked, wV, N: R, IN: d, OUT: d)
        var cache = Cache(n: n, l: l, stacked: stacked, Q: Q, K: K, V: V, A: [])
        var scores = [Float](repeating: 0, count: n * n)
        switch pooling {
        case .mean:
            scores = Self.blockScores(Q: Q, K: K, n: n, l: l, k: k)
        case .max:
            var qhat = [Float](repeating: 0, count: n * k), khat = qhat
            var qArg = [Int](repeating: 0, count: n * k), kArg = qArg
            for i in 0..<n {
                let (qy, qa) = Array(Q[(i * l * k)..<((i + 1) * l * k)]).withUnsafeBufferPointer { MixKernels.maxPoolRows($0, R: l, C: k) }
                let (ky, ka) = Array(K[(i * l * k)..<((i + 1) * l * k)]).withUnsafeBufferPointer { MixKernels.maxPoolRows($0, R: l, C: k) }
                for c in 0..<k {
                    qhat[i * k + c] = qy[c]; qArg[i * k + c] = qa[c]
                    khat[i * k + c] = ky[c]; kArg[i * k + c] = ka[c]
                }
            }
            scores = MixKernels.linearForward(qhat, AttemptModule.transpose(khat, rows: n, cols: k), N: n, IN: k, OUT: n)
            cache.qhat = qhat; cache.khat = khat; cache.qArg = qArg; cache.kArg = kArg
        }
        let A = MixKernels.softmaxRows(scores, N: n, K: n)
        cache.A = A
        let T = MixKernels.linearForward(A, V, N: n, IN: n, OUT: l * d)
        let targets = (0..<n).map { Tensor(shape: [l, d], scalars: Array(T[($0 * l * d)..<(($0 + 1) * l * d)])) }
        return (targets, A, cache)
    }

    /// S' by one gemm: S = Q Kᵀ `[n·l, n·l]`, then the mean of each l×l block.
    public static func blockScores(Q: [Float], K: [Float], n: Int, l: Int, k: Int) -> [Float] {
        let R = n * l
        var S = [Float](repeating: 0, count: R * R)
        Q.withUnsafeBufferPointer { q in
            K.withUnsafeBufferPointer { kk in
                S.withUnsafeMutableBufferPointer { s in
                    BLAS.sgemm(transB: true, m: R, n: R, k: k, a: q.baseAddress!, b: kk.baseAddress!, c: s.baseAddress!)
                }
            }
        }
        var out = [Float](repeating: 0, count: n * n)
        let inv = 1 / Float(l * l)
        for a in 0..<R { for b in 0..<R { out[(a / l) * n + b / l] += S[a * R + b] } }
        for i in out.indices { out[i] *= inv }
        return out
    }

    /// S' by a loop over the n² blocks, one small l×k·k×l gemm each (for the benchmark).
    public static func blockScoresLoop(Q: [Float], K: [Float], n: Int, l: Int, k: Int) -> [Float] {
        var out = [Float](repeating: 0, count: n * n)
        var block = [Float](repeating: 0, count: l * l)
        let inv = 1 / Float(l * l)
        Q.withUnsafeBufferPointer { q in
            K.withUnsafeBufferPointer { kk in
                for i in 0..<n {
                    for j in 0..<n {
                        block.withUnsafeMutableBufferPointer { s in
                            BLAS.sgemm(transB: true, m: l, n: l, k: k, a: q.baseAddress! + i * l * k,
                                       b: kk.baseAddress! + j * l * k, c: s.baseAddress!)
                        }
                        out[i * n + j] = block.reduce(0, +) * inv
                    }
                }
            }
        }
        return out
    }

    // MARK: - Backward

    struct Gradients {
        var wQ: [Float], wK: [Float], wV: [Float]
        init(width d: Int, keyWidth k: Int) {
            wQ = [Float](repeating: 0, count: d * k)
            wK = [Float](repeating: 0, count: d * k)
            wV = [Float](repeating: 0, count: d * d)
        }
    }

    /// dTargets: [n, l·d] -> grads += dL/d(W_Q, W_K, W_V). The sources are frozen.
    func backward(dTargets: [Float], cache c: Cache, grads: inout Gradients) {
        let n = c.n, l = c.l, d = width, k = keyWidth, R = n * l
        precondition(dTargets.count == n * l * d, "DAM backward: dTargets must be [n, l·d]")
        // T = A V: dA = dT Vᵀ [n, n], dV = Aᵀ dT [n, l·d].
        var dA = [Float](repeating: 0, count: n * n)
        MixKernels.linearBackwardInput(&dA, dy: dTargets, W: c.V, N: n, IN: n, OUT: l * d)
        var dV = [Float](repeating: 0, count: R * d)
        MixKernels.linearBackwardWeight(&dV, dy: dTargets, x: c.A, N: n, IN: n, OUT: l * d)
        var dS = [Float](repeating: 0, count: n * n)
        MixKernels.softmaxRowsBackward(&dS, dy: dA, y: c.A, N: n, K: n)
        var dQ = [Float](repeating: 0, count: R * k), dK = dQ
        switch pooling {
        case .mean:
            // S'_ij = (1/l²) Σ S_ab: dS_ab = dS'_ij / l²; S = Q Kᵀ: dQ = dS K, dK = dSᵀ Q.
            var dFull = [Float](repeating: 0, count: R * R)
            let inv = 1 / Float(l * l)
            for a in 0..<R { for b in 0..<R { dFull[a * R + b] = dS[(a / l) * n + b / l] * inv } }
            dQ = MixKernels.linearForward(dFull, c.K, N: R, IN: R, OUT: k)
            MixKernels.linearBackwardWeight(&dK, dy: c.Q, x: dFull, N: R, IN: R, OUT: k)
        case .max:
            // S' = q̂ k̂ᵀ: dq̂ = dS' k̂, dk̂ = dS'ᵀ q̂, each scattered to the row that won the max.
            let dq = MixKernels.linearForward(dS, c.khat, N: n, IN: n, OUT: k)
            var dk = [Float](repeating: 0, count: n * k)
            MixKernels.linearBackwardWeight(&dk, dy: c.qhat, x: dS, N: n, IN: n, OUT: k)
            for i in 0..<n {
                for col in 0..<k {
                    dQ[(i * l + c.qArg[i * k + col]) * k + col] += dq[i * k + col]
                    dK[(i * l + c.kArg[i * k + col]) * k + col] += dk[i * k + col]
                }
            }
        }
        MixKernels.linearBackwardWeight(&grads.wQ, dy: dQ, x: c.stacked, N: R, IN: d, OUT: k)
        MixKernels.linearBackwardWeight(&grads.wK, dy: dK, x: c.stacked, N: R, IN: d, OUT: k)
        MixKernels.linearBackwardWeight(&grads.wV, dy: dV, x: c.stacked, N: R, IN: d, OUT: d)
    }
}
