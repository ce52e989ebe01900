import Foundation
import PVecTensor

extension BertKernels {
    /// Threads for the per-(batch, head) attention work: the cores this process may use.
    static var attentionWorkers: Int { max(1, ProcessInfo.processInfo.activeProcessorCount) }

    /// Runs `body(item, worker)` for every item in 0..<items on up to `attentionWorkers`
    /// threads (`Parallel.forEach`); an item is computed the same way on whatever thread runs
    /// it, so results do not depend on the thread count.
    static func forEachItem(_ items: Int, _ body: (_ item: Int, _ worker: Int) -> Void) {
        Parallel.forEach(items, workers: attentionWorkers, body)
    }

    /// qkv: [B, T, 3C] -> out: [B, T, C], att: [B, NH, T, T] (softmax probabilities, kept for
    /// the backward pass).
    ///
    /// Bidirectional scaled dot-product attention per (batch, head), two sgemms each, the
    /// (batch, head) pairs spread over the cores (each writes only its own slices). Padding
    /// sits at the end of every sequence, so the attention mask is a length per sequence:
    /// sequence b attends over its first `lengths[b]` positions only, and its padding rows get
    /// a zero output (they feed nothing: no real position attends to them and pooling skips
    /// them). Only the leading `lengths[b]` × `lengths[b]` block of each T×T slice is written.
    static func attentionForward(out: UnsafeMutablePointer<Float>, att: UnsafeMutablePointer<Float>,
                                 qkv: UnsafePointer<Float>, lengths: [Int],
                                 B: Int, T: Int, C: Int, NH: Int) {
        let HS = C / NH
        let C3 = 3 * C
        let scale = 1 / Float(HS).squareRoot()
        for b in 0..<B where lengths[b] < T {
            zero(out + (b * T + lengths[b]) * C, count: (T - lengths[b]) * C)
        }
        forEachItem(B * NH) { bh, _ in
            let b = bh / NH, h = bh % NH
            let n = lengths[b]
            let q = qkv + b * T * C3 + h * HS
            let k = q + C
            let v = q + 2 * C
            let a = att + (b * NH + h) * T * T
            // scores[n, n] = scale · Q Kᵀ
            BLAS.sgemm(transB: true, m: n, n: n, k: HS, alpha: scale,
                       a: q, lda: C3, b: k, ldb: C3, beta: 0, c: a, ldc: T)
            for i in 0..<n {
                let row = a + i * T
                var maxv = -Float.infinity
                for j in 0..<n where row[j] > maxv { maxv = row[j] }
                var sum: Float = 0
                for j in 0..<n {
                    let e = expNonPositive(row[j] - maxv)
                    row[j] = e
                    sum += e
                }
                let inv = 1 / sum
                for j in 0..<n { row[j] *= inv }
            }
            // out[n, HS] = P V
            BLAS.sgemm(m: n, n: HS, k: n, a: a, lda: T, b: v, ldb: C3,
                       beta: 0, c: out + b * T * C + h * HS, ldc: C)
        }
    }

    /// dout: [B, T, C] -> dqkv: [B, T, 3C] +=, given the forward's qkv and att; datt: [T, T]
    /// scratch (the first worker's; the others allocate their own).
    ///
    /// dP = dO Vᵀ, dV += Pᵀ dO, dS = P ⊙ (dP − rowsum(P ⊙ dP)) · scale, dQ += dS K, dK += dSᵀ Q.
    /// The (batch, head) pairs are spread over the cores like the forward's; each adds into
    /// its own columns of dqkv only.
    static func attentionBackward(dqkv: UnsafeMutablePointer<Float>, datt: UnsafeMutablePointer<Float>,
                                  dout: UnsafePointer<Float>, qkv: UnsafePointer<Float>,
                                  att: UnsafePointer<Float>, lengths: [Int],
                                  B: Int, T: Int, C: Int, NH: Int) {
        let HS = C / NH
        let C3 = 3 * C
        let scale = 1 / Float(HS).squareRoot()
        let workers = min(B * NH, attentionWorkers)
        let extra = UnsafeMutablePointer<Float>.allocate(capacity: max(0, workers - 1) * T * T)
        defer { extra.deallocate() }
        forEachItem(B * NH) { bh, worker in
            let b = bh / NH, h = bh % NH
            let n = lengths[b]
            let scratch = worker == 0 ? datt : extra + (worker - 1) * T * T
            let q = qkv + b * T * C3 + h * HS, k = q + C, v = q + 2 * C
            let dq = dqkv + b * T * C3 + h * HS, dk = dq + C, dv = dq + 2 * C
            let dO = dout + b * T * C + h * HS
            let a = att + (b * NH + h) * T * T
            // datt[n, n] = dO Vᵀ
            BLAS.sgemm(transB: true, m: n, n: n, k: HS, a: dO, lda: C, b: v, ldb: C3,
                       beta: 0, c: scratch, ldc: n)
            // dV += Pᵀ dO
            BLAS.sgemm(transA: true, m: n, n: HS, k: n, a: a, lda: T, b: dO, ldb: C,
                       beta: 1, c: dv, ldc: C3)
            // softmax backward, in place: datt becomes dS (the scaled pre-softmax gradient)
            for i in 0..<n {
                let p = a + i * T
                let d = scratch + i * n
                var dot: Float = 0
                for j in 0..<n { dot += p[j] * d[j] }
                for j in 0..<n { d[j] = p[j] * (d[j] - dot) * scale }
            }
            // dQ += dS K, dK += dSᵀ Q
            BLAS.sgemm(m: n, n: HS, k: n, a: scratch, lda: n, b: k, ldb: C3, beta: 1, c: dq, ldc: C3)
            BLAS.sgemm(transA: true, m: n, n: HS, k: n, a: scratch, lda: n, b: q, ldb: C3,
                       beta: 1, c: dk, ldc: C3)
        }
    }
}
