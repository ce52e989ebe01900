import Foundation
import PVecModel
import PVecTensor

/// ATTEMPT's attention module G and its instance-wise prompt composition
/// (Asai, Salehi, Peters & Hajishirzi 2022, "ATTEMPT: Parameter-Efficient Multi-task Tuning via
/// Attentional Mixtures of Soft Prompts", EMNLP; §3.2, eqs. 2–4).
///
/// For an input X (its word-embedding rows) and k frozen source prompts P_1…P_k plus the
/// trained target prompt P_t (= P_{k+1}), all `[m, d]`:
/// ```
/// x̂ = max-pool_rows(X)                               [d]
/// p̂_j = max-pool_rows(P_j)                           [d]
/// H = LayerNorm(SiLU(x̂ W_down) W_up)                 W_down: [d, r], W_up: [r, d], no biases
/// a_j = softmax_j(p̂_j · H / T),  T = d · e           j = 1…k+1
/// P(X) = P_t + Σ_j a_j P_j                            [m, d]
/// ```
/// LayerNorm has a learned gain and bias (as `nn.LayerNorm` in the authors' code). Only W_down,
/// W_up, the LayerNorm and P_t learn; the sources and the backbone are frozen.
public struct AttemptModule: Sendable, Equatable {
    /// d: prompt width.
    let width: Int
    /// r: the bottleneck of G (100 in the paper).
    let rank: Int
    var wDown: [Float]    // [d, r]
    var wUp: [Float]      // [r, d]
    var lnGain: [Float]   // [d]
    var lnBias: [Float]   // [d]
    /// T = d · e unless set otherwise.
    var temperature: Float

    static let layerNormEpsilon: Float = 1e-5

    /// A fresh module: W_down, W_up uniform in ±1/√fan_in (PyTorch's `nn.Linear` default), LayerNorm
    /// gain 1 and bias 0, T = d · e.
    public init(width d: Int, rank r: Int, seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        width = d
        rank = r
        wDown = MixKernels.uniform(d * r, bound: 1 / Float(d).squareRoot(), rng: &rng)
        wUp = MixKernels.uniform(r * d, bound: 1 / Float(r).squareRoot(), rng: &rng)
        lnGain = [Float](repeating: 1, count: d)
        lnBias = [Float](repeating: 0, count: d)
        temperature = Float(d) * Float(M_E)
    }

    /// A module from stored tensors (`W_down`, `W_up`, `ln_gain`, `ln_bias`) and its temperature.
    init(tensors: [String: Tensor], temperature: Float) throws {
        guard let down = tensors["W_down"], let up = tensors["W_up"], let g = tensors["ln_gain"], let b = tensors["ln_bias"],
              down.shape.rank == 2, up.shape.dims == [down.shape.dims[1], down.shape.dims[0]],
              g.count == down.shape.dims[0], b.count == g.count else {
            throw TrainError.badModule("an ATTEMPT module needs W_down [d, r], W_up [r, d], ln_gain [d] and ln_bias [d]")
        }
        width = down.shape.dims[0]
        rank = down.shape.dims[1]
        wDown = down.scalars
        wUp = up.scalars
        lnGain = g.scalars
        lnBias = b.scalars
        self.temperature = temperature
    }

    /// The module as named tensors, for the registry.
    var tensors: [String: Tensor] {
        ["W_down": Tensor(shape: [width, rank], scalars: wDown), "W_up": Tensor(shape: [rank, width], scalars: wUp),
         "ln_gain": Tensor(shape: [width], scalars: lnGain), "ln_bias": Tensor(shape: [width], scalars: lnBias)]
    }

    // MARK: - Forward

    /// What `backward` needs from `forward`.
    struct Cache {
        var B: Int
        var xhat: [Float]       // [B, d]
        var z: [Float]          // [B, r] x̂ W_down
        var h: [Float]          // [B, r] SiLU(z)
        var u: [Float]          // [B, d] h W_up
        var lnMean: [Float]     // [B]
        var lnRstd: [Float]     // [B]
        var H: [Float]          // [B, d]
        var phat: [Float]       // [J, d] pooled prompts, sources then target
        var targetArg: [Int]    // [d] row of P_t that won each column's max
        var a: [Float]          // [B, J] attention
    }

    /// x̂: [B, d], sources: k × [m, d], target: [m, d] -> instance prompts B × [m, d] and attention [B, k+1].
    func forward(xhat: [Float], sources: [Tensor], target: Tensor) -> (prompts: [Tensor], attention: [Float], cache: Cache) {
        let d = width, r = rank, m = target.shape.rows, J = sources.count + 1
        let B = xhat.count / d
        precondition(xhat.count == B * d && target.shape.width == d, "ATTEMPT: width mismatch")
        let z = MixKernels.linearForward(xhat, wDown, N: B, IN: d, OUT: r)
        let h = MixKernels.siluForward(z)
        let u = MixKernels.linearForward(h, wUp, N: B, IN: r, OUT: d)
        let (H, mean, rstd) = MixKernels.layernormForward(u, gain: lnGain, bias: lnBias, N: B, C: d, eps: Self.layerNormEpsilon)
        var phat = [Float](repeating: 0, count: J * d)
        var targetArg: [Int] = []
        for j in 0..<J {
            let P = j < sources.count ? sources[j] : target
            precondition(P.shape.dims == [m, d], "ATTEMPT: every prompt must be [\(m), \(d)]")
            let (y, arg) = MixKernels.maxPoolRows(P.scalars, R: m, C: d)
            for c in 0..<d { phat[j * d + c] = y[c] }
            if j == J - 1 { targetArg = arg }
        }
        // scores s = H p̂ᵀ / T: [B, J]
        var s = MixKernels.linearForward(H, Self.transpose(phat, rows: J, cols: d), N: B, IN: d, OUT: J)
        for i in s.indices { s[i] /= temperature }
        let a = MixKernels.softmaxRows(s, N: B, K: J)
        var prompts: [Tensor] = []
        prompts.reserveCapacity(B)
        for b in 0..<B {
            var p = target.scalars
            for j in 0..<J {
                let P = j < sources.count ? sources[j] : target
                let w = a[b * J + j]
                P.scalars.withUnsafeBufferPointer { src in
                    p.withUnsafeMutableBufferPointer { dst in
                        BLAS.saxpy(n: m * d, alpha: w, x: src.baseAddress!, y: dst.baseAddress!)
                    }
                }
            }
            prompts.append(Tensor(shape: [m, d], scalars: p))
        }
        return (prompts, a, Cache(B: B, xhat: xhat, z: z, h: h, u: u, lnMean: mean, lnRstd: rstd, H: H,
                                  phat: phat, targetArg: targetArg, a: a))
    }

    // MARK: - Backward

    /// Gradients of the trained parameters.
    struct Gradients {
        var wDown: [Float], wUp: [Float], lnGain: [Float], lnBias: [Float]
        /// dL/dP_t: [m, d].
        var target: [Float]

        init(width d: Int, rank r: Int, promptCount: Int) {
            wDown = [Float](repeating: 0, count: d * r)
            wUp = [Float](repeating: 0, count: r * d)
            lnGain = [Float](repeating: 0, count: d)
            lnBias = [Float](repeating: 0, count: d)
            target = [Float](repeating: 0, count: promptCount)
        }
    }

    /// dPrompts: [B, m, d] (dL/d each instance prompt) -> grads += dL/d(W_down, W_up, LayerNorm, P_t).
    func backward(dPrompts: [Float], cache c: Cache, sources: [Tensor], target: Tensor, grads: inout Gradients) {
        let d = width, r = rank, m = target.shape.rows, J = sources.count + 1, B = c.B
        let n = m * d
        precondition(dPrompts.count == B * n, "ATTEMPT backward: dPrompts must be [B, m, d]")
        var da = [Float](repeating: 0, count: B * J)
        dPrompts.withUnsafeBufferPointer { dp in
            for b in 0..<B {
                let g = UnsafeBufferPointer(rebasing: dp[(b * n)..<((b + 1) * n)])
                // P(X) = P_t + Σ_j a_j P_j: P_t gets the direct term and its own attention share.
                let direct = 1 + c.a[b * J + J - 1]
                for i in 0..<n { grads.target[i] += direct * g[i] }
                for j in 0..<J {
                    let P = j < sources.count ? sources[j] : target
                    da[b * J + j] = P.scalars.withUnsafeBufferPointer { MixKernels.dot(g, $0) }
                }
            }
        }
        var ds = [Float](repeating: 0, count: B * J)
        MixKernels.softmaxRowsBackward(&ds, dy: da, y: c.a, N: B, K: J)
        for i in ds.indices { ds[i] /= temperature }
        // s = H p̂ᵀ: dH = ds p̂ [B, d]; dp̂ = dsᵀ H [J, d], of which only the target's row matters.
        let dH = MixKernels.linearForward(ds, c.phat, N: B, IN: J, OUT: d)
        for b in 0..<B {
            let w = ds[b * J + J - 1]
            for col in 0..<d { grads.target[c.targetArg[col] * d + col] += w * c.H[b * d + col] }
        }
        var du = [Float](repeating: 0, count: B * d)
        MixKernels.layernormBackward(dx: &du, dgain: &grads.lnGain, dbias: &grads.lnBias, dy: dH, x: c.u,
                                     mean: c.lnMean, rstd: c.lnRstd, gain: lnGain, N: B, C: d)
        MixKernels.linearBackwardWeight(&grads.wUp, dy: du, x: c.h, N: B, IN: r, OUT: d)
        var dh = [Float](repeating: 0, count: B * r)
        MixKernels.linearBackwardInput(&dh, dy: du, W: wUp, N: B, IN: r, OUT: d)
        var dz = [Float](repeating: 0, count: B * r)
        MixKernels.siluBackward(&dz, dy: dh, x: c.z)
        MixKernels.linearBackwardWeight(&grads.wDown, dy: dz, x: c.xhat, N: B, IN: d, OUT: r)
    }

    static func transpose(_ x: [Float], rows: Int, cols: Int) -> [Float] {
        var y = [Float](repeating: 0, count: x.count)
        for i in 0..<rows { for j in 0..<cols { y[j * rows + i] = x[i * cols + j] } }
        return y
    }
}

/// x̂ of ATTEMPT: the max-pool over an input's tokens of their word-embedding rows.
enum AttemptInputs {
    /// One row per text: max over the word-embedding rows of its token ids (special tokens
    /// included, as the authors pool the encoder's input embeddings under the attention mask).
    /// - Returns: `[B, d]`.
    static func pooledEmbeddings(_ batch: [TokenizedText], model: any BackboneModel,
                                        cache: inout [Int: [Float]]) -> [Float] {
        let d = model.width
        var out = [Float](repeating: 0, count: batch.count * d)
        for (b, seq) in batch.enumerated() {
            var y = [Float](repeating: -.infinity, count: d)
            for id in seq.ids {
                let row: [Float]
                if let hit = cache[id] { row = hit } else {
                    row = model.wordEmbeddings(rows: id..<(id + 1)).scalars
                    cache[id] = row
                }
                for c in 0..<d where row[c] > y[c] { y[c] = row[c] }
            }
            for c in 0..<d { out[b * d + c] = y[c] }
        }
        return out
    }
}
