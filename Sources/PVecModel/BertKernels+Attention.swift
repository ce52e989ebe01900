import PVecTensor

extension BertKernels {
    /// qkv: [B, T, 3C] -> out: [B, T, C], att: [B, NH, T, T] (softmax probabilities, kept for
    /// the backward pass).
    ///
    /// Bidirectional scaled dot-product attention per (batch, head), two sgemms each. Padding
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
        for b in 0..<B {
            let n = lengths[b]
            let qkvB = qkv + b * T * C3
            let outB = out + b * T * C
            if n < T { zero(outB + n * C, count: (T - n) * C) }
            for h in 0..<NH {
                let q = qkvB + h * HS
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
                           beta: 0, c: outB + h * HS, ldc: C)
            }
        }
    }

    /// dout: [B, T, C] -> dqkv: [B, T, 3C] +=, given the forward's qkv and att; datt: [T, T] scratch.
    ///
    /// dP = dO Vᵀ, dV += Pᵀ dO, dS = P ⊙ (dP − rowsum(P ⊙ dP)) · scale, dQ += dS K, dK += dSᵀ Q.
    static func attentionBackward(dqkv: UnsafeMutablePointer<Float>, datt: UnsafeMutablePointer<Float>,
                                  dout: UnsafePointer<Float>, qkv: UnsafePointer<Float>,
                                  att: UnsafePointer<Float>, lengths: [Int],
                                  B: Int, T: Int, C: Int, NH: Int) {
        let HS = C / NH
        let C3 = 3 * C
        let scale = 1 / Float(HS).squareRoot()
        for b in 0..<B {
            let n = lengths[b]
            let qkvB = qkv + b * T * C3
            let dqkvB = dqkv + b * T * C3
            let doutB = dout + b * T * C
            for h in 0..<NH {
                let q = qkvB + h * HS, k = q + C, v = q + 2 * C
                let dq = dqkvB + h * HS, dk = dq + C, dv = dq + 2 * C
                let dO = doutB + h * HS
                let a = att + (b * NH + h) * T * T
                // datt[n, n] = dO Vᵀ
                BLAS.sgemm(transB: true, m: n, n: n, k: HS, a: dO, lda: C, b: v, ldb: C3,
                           beta: 0, c: datt, ldc: n)
                // dV += Pᵀ dO
                BLAS.sgemm(transA: true, m: n, n: HS, k: n, a: a, lda: T, b: dO, ldb: C,
                           beta: 1, c: dv, ldc: C3)
                // softmax backward, in place: datt becomes dS (the scaled pre-softmax gradient)
                for i in 0..<n {
                    let p = a + i * T
                    let d = datt + i * n
                    var dot: Float = 0
                    for j in 0..<n { dot += p[j] * d[j] }
                    for j in 0..<n { d[j] = p[j] * (d[j] - dot) * scale }
                }
                // dQ += dS K, dK += dSᵀ Q
                BLAS.sgemm(m: n, n: HS, k: n, a: datt, lda: n, b: k, ldb: C3, beta: 1, c: dq, ldc: C3)
                BLAS.sgemm(transA: true, m: n, n: HS, k: n, a: datt, lda: n, b: q, ldb: C3,
                           beta: 1, c: dk, ldc: C3)
            }
        }
    }
}
