import PVecTensor

/// The forward/backward pairs a BERT layer is made of, on raw row-major Float32 buffers.
///
/// Names as everywhere in this module: B batch, T positions, C width, NH heads, HS head width,
/// F feed-forward width, N = B*T rows. Backward functions say whether they add (`+=`) into
/// their input-gradient buffers or write them (`=`). The weights are frozen, so no backward
/// computes a weight gradient, and matmul backward needs only the weights and the output gradient.
enum BertKernels {
    // MARK: - Matmul

    /// inp: [N, IC] -> out: [N, OC] = inp Wᵀ + b, with weight: [OC, IC] (PyTorch layout), bias: [OC].
    static func matmulForward(out: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>,
                              weight: UnsafePointer<Float>, bias: UnsafePointer<Float>,
                              N: Int, IC: Int, OC: Int) {
        for n in 0..<N {
            (out + n * OC).update(from: bias, count: OC)
        }
        BLAS.sgemm(transB: true, m: N, n: OC, k: IC, a: inp, b: weight, beta: 1, c: out)
    }

    /// dout: [N, OC] -> dinp: [N, IC] += dout W (or = with `accumulate: false`), with weight: [OC, IC].
    static func matmulBackward(dinp: UnsafeMutablePointer<Float>, dout: UnsafePointer<Float>,
                               weight: UnsafePointer<Float>, N: Int, IC: Int, OC: Int, accumulate: Bool = true) {
        BLAS.sgemm(m: N, n: IC, k: OC, a: dout, b: weight, beta: accumulate ? 1 : 0, c: dinp)
    }

    // MARK: - Residual

    /// inp: [N] -> out: [N] += inp. The residual's backward is the same `+=` of the gradient.
    static func residualForward(out: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, count: Int) {
        for i in 0..<count { out[i] += inp[i] }
    }

    /// Clears `count` floats: the zero-grad of one scratch buffer.
    static func zero(_ p: UnsafeMutablePointer<Float>, count: Int) {
        p.update(repeating: 0, count: count)
    }
}
