extension BertKernels {
    /// inp: [N, C] -> out: [N, C], mean: [N], rstd: [N] (kept for the backward pass).
    ///
    /// out = (inp - mean) * rstd * weight + bias, rstd = 1 / sqrt(var + eps), biased variance
    /// (two passes: the mean, then the squared deviations). Each row's sums run over eight
    /// lanes (`BertKernels.sum`'s fixed order), so a row's result does not depend on which rows
    /// share the call.
    static func layernormForward(out: UnsafeMutablePointer<Float>, mean: UnsafeMutablePointer<Float>,
                                 rstd: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>,
                                 weight: UnsafePointer<Float>, bias: UnsafePointer<Float>,
                                 N: Int, C: Int, eps: Float) {
        let invC = 1 / Float(C)
        for n in 0..<N {
            let x = inp + n * C
            let y = out + n * C
            let m = sum(x, count: C) * invC
            let mv = Lanes(repeating: m)
            var a = Lanes(), b = Lanes()
            var i = 0
            while i + 16 <= C {
                let d0 = load(x + i) - mv, d1 = load(x + i + 8) - mv
                a += d0 * d0
                b += d1 * d1
                i += 16
            }
            if i + 8 <= C {
                let d = load(x + i) - mv
                a += d * d
                i += 8
            }
            var v = total(a + b)
            while i < C {
                let d = x[i] - m
                v += d * d
                i += 1
            }
            v *= invC
            let s = 1 / (v + eps).squareRoot()
            i = 0
            while i + 8 <= C {
                let xhat: Lanes = (load(x + i) - mv) * s
                let scaled: Lanes = xhat * load(weight + i)
                store(scaled + load(bias + i), y + i)
                i += 8
            }
            while i < C {
                y[i] = (x[i] - m) * s * weight[i] + bias[i]
                i += 1
            }
            mean[n] = m
            rstd[n] = s
        }
    }

    /// dout: [N, C] -> dinp: [N, C] (written, not added), given the forward's inp: [N, C],
    /// mean: [N], rstd: [N].
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
            let mv = Lanes(repeating: m)
            var ga = Lanes(), gxa = Lanes()
            var i = 0
            while i + 8 <= C {
                let g: Lanes = load(weight + i) * load(dy + i)
                let xhat: Lanes = (load(x + i) - mv) * s
                ga += g
                gxa += g * xhat
                i += 8
            }
            var gMean = total(ga)
            var gxMean = total(gxa)
            while i < C {
                let g = weight[i] * dy[i]
                gMean += g
                gxMean += g * ((x[i] - m) * s)
                i += 1
            }
            gMean *= invC
            gxMean *= invC
            i = 0
            while i + 8 <= C {
                let xhat: Lanes = (load(x + i) - mv) * s
                let g: Lanes = load(weight + i) * load(dy + i)
                let d: Lanes = g - gMean - xhat * gxMean
                store(s * d, dx + i)
                i += 8
            }
            while i < C {
                let xhat = (x[i] - m) * s
                dx[i] = s * (weight[i] * dy[i] - gMean - xhat * gxMean)
                i += 1
            }
        }
    }
}
