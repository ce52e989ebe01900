import Foundation
import PVecTensor

extension BertKernels {
    /// Threads for the per-(batch, head) attention work when one chunk holds the whole batch
    /// (`SequenceChunks`): the cores this process may use.
    static var attentionWorkers: Int { max(1, ProcessInfo.processInfo.activeProcessorCount) }

    /// Runs `body(item, worker)` for every item in 0..<items, on the calling thread, or spread
    /// over up to `workers` threads (`Parallel.forEach`); an item is computed the same way on
    /// whatever thread runs it, so results do not depend on the thread count.
    static func forEachItem(_ items: Int, workers: Int, _ body: (_ item: Int, _ worker: Int) -> Void) {
        Parallel.forEach(items, workers: workers, body)
    }

    /// qkv: [B, T, 3C] -> out: [B, T, C], att: [B, NH, T, T] (softmax probabilities, kept for
    /// the backward pass), for the sequences in `sequences` (indices into the whole batch, whose
    /// buffers the pointers address).
    ///
    /// Bidirectional scaled dot-product attention per (batch, head), two sgemms each, on this
    /// thread, or over `workers` threads (each pair writes only its own slices). Padding sits
    /// at the end of every sequence, so the attention mask is a length per sequence: sequence
    /// b attends over its first `lengths[b]` positions only, and its padding rows get a zero
    /// output (they feed nothing: no real position attends to them and pooling skips them).
    /// Only the leading `lengths[b]` × `lengths[b]` block of each T×T slice is written.
    static func attentionForward(out: UnsafeMutablePointer<Float>, att: UnsafeMutablePointer<Float>,
                                 qkv: UnsafePointer<Float>, lengths: UnsafePointer<Int>, sequences: Range<Int>,
                                 T: Int, C: Int, NH: Int, workers: Int = 1) {
        let HS = C / NH
        let C3 = 3 * C
        let scale = 1 / Float(HS).squareRoot()
        for b in sequences where lengths[b] < T {
            zero(out + (b * T + lengths[b]) * C, count: (T - lengths[b]) * C)
        }
        let b0 = sequences.lowerBound
        forEachItem(sequences.count * NH, workers: workers) { item, _ in
            let b = b0 + item / NH, h = item % NH
            let n = lengths[b]
            let q = qkv + b * T * C3 + h * HS
            let k = q + C
            let v = q + 2 * C
            let a = att + (b * NH + h) * T * T
            // scores[n, n] = scale · Q Kᵀ
            BLAS.sgemm(transB: true, m: n, n: n, k: HS, alpha: scale,
                       a: q, lda: C3, b: k, ldb: C3, beta: 0, c: a, ldc: T)
            for i in 0..<n { softmaxRow(a + i * T, count: n) }
            // out[n, HS] = P V
            BLAS.sgemm(m: n, n: HS, k: n, a: a, lda: T, b: v, ldb: C3,
                       beta: 0, c: out + b * T * C + h * HS, ldc: C)
        }
    }

    /// row[0..<count] = softmax(row), in place: the maximum subtracted, eight lanes at a time.
    @inline(__always)
    static func softmaxRow(_ row: UnsafeMutablePointer<Float>, count n: Int) {
        var j = 0
        var maxv = -Float.infinity
        if n >= 8 {
            var m8 = load(row)
            j = 8
            while j + 8 <= n {
                m8 = pointwiseMax(m8, load(row + j))
                j += 8
            }
            maxv = m8.max()
        }
        while j < n {
            maxv = max(maxv, row[j])
            j += 1
        }
        let mv = Lanes(repeating: maxv)
        var s8 = Lanes()
        j = 0
        while j + 8 <= n {
            let e = expNonPositive(load(row + j) - mv)
            store(e, row + j)
            s8 += e
            j += 8
        }
        var sum = total(s8)
        while j < n {
            let e = expNonPositive(row[j] - maxv)
            row[j] = e
            sum += e
            j += 1
        }
        let inv = 1 / sum
        j = 0
        while j + 8 <= n {
            store(load(row + j) * inv, row + j)
            j += 8
        }
        while j < n {
            row[j] *= inv
            j += 1
        }
    }

    /// dout: [B, T, C] -> dqkv: [B, T, 3C] (written, padding rows zeroed), given the forward's
    /// qkv and att, for the sequences in `sequences`; scratch: `workers` × [T, T].
    ///
    /// dP = dO Vᵀ, dV = Pᵀ dO, dS = P ⊙ (dP − rowsum(P ⊙ dP)) · scale, dQ = dS K, dK = dSᵀ Q.
    /// The (batch, head) pairs run like the forward's; each writes its own columns of dqkv only.
    static func attentionBackward(dqkv: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>,
                                  dout: UnsafePointer<Float>, qkv: UnsafePointer<Float>,
                                  att: UnsafePointer<Float>, lengths: UnsafePointer<Int>, sequences: Range<Int>,
                                  T: Int, C: Int, NH: Int, workers: Int = 1) {
        let HS = C / NH
        let C3 = 3 * C
        let scale = 1 / Float(HS).squareRoot()
        for b in sequences where lengths[b] < T {
            zero(dqkv + (b * T + lengths[b]) * C3, count: (T - lengths[b]) * C3)
        }
        let b0 = sequences.lowerBound
        forEachItem(sequences.count * NH, workers: workers) { item, worker in
            let b = b0 + item / NH, h = item % NH
            let n = lengths[b]
            let dP = scratch + worker * T * T
            let q = qkv + b * T * C3 + h * HS, k = q + C, v = q + 2 * C
            let dq = dqkv + b * T * C3 + h * HS, dk = dq + C, dv = dq + 2 * C
            let dO = dout + b * T * C + h * HS
            let a = att + (b * NH + h) * T * T
            // dP[n, n] = dO Vᵀ
            BLAS.sgemm(transB: true, m: n, n: n, k: HS, a: dO, lda: C, b: v, ldb: C3,
                       beta: 0, c: dP, ldc: n)
            // dV = Pᵀ dO
            BLAS.sgemm(transA: true, m: n, n: HS, k: n, a: a, lda: T, b: dO, ldb: C,
                       beta: 0, c: dv, ldc: C3)
            // softmax backward, in place: dP becomes dS (the scaled pre-softmax gradient)
            for i in 0..<n { softmaxBackwardRow(dP + i * n, probabilities: a + i * T, count: n, scale: scale) }
            // dQ = dS K, dK = dSᵀ Q
            BLAS.sgemm(m: n, n: HS, k: n, a: dP, lda: n, b: k, ldb: C3, beta: 0, c: dq, ldc: C3)
            BLAS.sgemm(transA: true, m: n, n: HS, k: n, a: dP, lda: n, b: q, ldb: C3,
                       beta: 0, c: dk, ldc: C3)
        }
    }

    /// d = p ⊙ (d − p·d) · scale over one row, in place, eight lanes at a time.
    @inline(__always)
    static func softmaxBackwardRow(_ d: UnsafeMutablePointer<Float>, probabilities p: UnsafePointer<Float>,
                                   count n: Int, scale: Float) {
        var acc = Lanes()
        var j = 0
        while j + 8 <= n {
            acc += load(p + j) * load(d + j)
            j += 8
        }
        var dot = total(acc)
        while j < n {
            dot += p[j] * d[j]
            j += 1
        }
        j = 0
        while j + 8 <= n {
            let centred: Lanes = load(d + j) - dot
            let prob: Lanes = load(p + j)
            store(prob * centred * scale, d + j)
            j += 8
        }
        while j < n {
            d[j] = p[j] * (d[j] - dot) * scale
            j += 1
        }
    }
}
