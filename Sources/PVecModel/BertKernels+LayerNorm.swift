extension BertKernels {
    /// inp: [N, C] -> out: [N, C], mean: [N], rstd: [N] (kept for the backward pass).
    ///
    /// out = (inp - mean) * rstd * weight + bias, rstd = 1 / sqrt(var + eps), biased variance.
    static func layernormForward(out: UnsafeMutablePointer<Float>, mean: UnsafeMutablePointer<Float>,
                                 rstd: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>,
                                 weight: UnsafePointer<Float>, bias: UnsafePointer<Float>,
                                 N: Int, C: Int, eps: Float) {
        let invC = 1 / Float(C)
        for n in 0..<N {
            let x = inp + n * C
            let y = out + n * C
            var m: Float = 0
            for i in 0..<C { m += x[i] }
            m *= invC
            var v: Float = 0
            for i in 0..<C {
                let d = x[i] - m
                v += d * d
            }
            v *= invC
            let s = 1 / (v + eps).squareRoot()
            for i in 0..<C {
                y[i] = (x[i] - m) * s * weight[i] + bias[i]
            }
            mean[n] = m
            rstd[n] = s
        }
    }

    /// dout: [N, C] -> dinp: [N, C] +=, given the forward's inp: [N, C], mean: [N], rstd: [N].
    ///
    /// With x̂ = (x - mean) rstd and g = weight ⊙ dout:
    /// dx = rstd (g - mean(g) - x̂ mean(g ⊙ x̂)).
    static func layernormBackward(dinp: UnsafeMutablePointer<Float>, dout: UnsafePointer<Float>,
                                  inp: UnsafePointer<Float>, mean: UnsafePointer<Float>,
                                  rstd: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                                  N: Int, C: Int) {
        let invC = 1 / Float(C)
        for n in 0..<N {
            let x = inp + n * C
            let dy = dout + n * C
            let dx = dinp + n * C
            let m = mean[n], s = rstd[n]
            var gMean: Float = 0
            var gxMean: Float = 0
            for i in 0..<C {
                let g = weight[i] * dy[i]
                gMean += g
                gxMean += g * (x[i] - m) * s
            }
            gMean *= invC
            gxMean *= invC
            for i in 0..<C {
                let xhat = (x[i] - m) * s
                dx[i] += s * (weight[i] * dy[i] - gMean - xhat * gxMean)
            }
        }
    }
}
