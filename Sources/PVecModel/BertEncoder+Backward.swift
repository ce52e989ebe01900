extension BertEncoder {
    /// dOutput: [B, C] -> acts.demb: [B, T, C], through pooling, the layers in reverse and the
    /// embedding LayerNorm. No weight gradients: the backbone is frozen.
    func backwardPass(_ dOutput: [Float], record: ForwardRecord, acts: BertActivations) {
        let B = record.B, T = record.T, N = B * T
        let C = config.width, F = config.ffnWidth, NH = config.heads
        let cap = acts.capacity
        acts.zeroGrad(B: B, T: T)
        // Pooling (and normalisation): y = p / ‖p‖ gives dp = (dy - y (y·dy)) / ‖p‖;
        // p = mean of x over the sequence gives dx_t += dp / length.
        dOutput.withUnsafeBufferPointer { dyBuf in
            for b in 0..<B {
                let dy = dyBuf.baseAddress! + b * C
                let y = acts.output + b * C
                var dp = [Float](repeating: 0, count: C)
                if record.normalize {
                    var dot: Float = 0
                    for i in 0..<C { dot += y[i] * dy[i] }
                    let inv = 1 / max(acts.poolNorm[b], 1e-12)
                    for i in 0..<C { dp[i] = (dy[i] - y[i] * dot) * inv }
                } else {
                    for i in 0..<C { dp[i] = dy[i] }
                }
                let n = record.lengths[b]
                let share = 1 / Float(n)
                for t in 0..<n {
                    let dx = acts.dx + (b * T + t) * C
                    for i in 0..<C { dx[i] += dp[i] * share }
                }
            }
        }
        parameters.storage.withUnsafeBufferPointer { storage in
            let p = storage.baseAddress!
            for l in stride(from: config.layers - 1, through: 0, by: -1) {
                let w = parameters.layers[l]
                let qkv = acts.slice(acts.qkv, layer: l, perLayer: cap * 3 * C)
                let att = acts.slice(acts.att, layer: l, perLayer: cap * NH * acts.maxT)
                let res1 = acts.slice(acts.res1, layer: l, perLayer: cap * C)
                let ln1Mean = acts.slice(acts.ln1Mean, layer: l, perLayer: cap)
                let ln1Rstd = acts.slice(acts.ln1Rstd, layer: l, perLayer: cap)
                let fch = acts.slice(acts.fch, layer: l, perLayer: cap * F)
                let res2 = acts.slice(acts.res2, layer: l, perLayer: cap * C)
                let ln2Mean = acts.slice(acts.ln2Mean, layer: l, perLayer: cap)
                let ln2Rstd = acts.slice(acts.ln2Rstd, layer: l, perLayer: cap)
                // This layer's scratch gradients were used by the layer above: clear them.
                if l < config.layers - 1 {
                    for (buf, n) in [(acts.dres, N * C), (acts.dln1, N * C), (acts.datty, N * C),
                                     (acts.dqkv, N * 3 * C), (acts.dfchGelu, N * F), (acts.dfch, N * F)] {
                        BertKernels.zero(buf, count: n)
                    }
                }
                // x_out = LN2(res2), res2 = ln1 + fc2(gelu(fc1(ln1)))
                BertKernels.layernormBackward(dinp: acts.dres, dout: acts.dx, inp: res2, mean: ln2Mean,
                                              rstd: ln2Rstd, weight: p + w.ln2Weight, N: N, C: C)
                BertKernels.zero(acts.dx, count: N * C)    // dx now accumulates this layer's input gradient
                BertKernels.residualForward(out: acts.dln1, inp: acts.dres, count: N * C)
                BertKernels.matmulBackward(dinp: acts.dfchGelu, dout: acts.dres, weight: p + w.fc2Weight,
                                           N: N, IC: F, OC: C)
                BertKernels.geluBackward(dinp: acts.dfch, inp: fch, dout: acts.dfchGelu, count: N * F)
                BertKernels.matmulBackward(dinp: acts.dln1, dout: acts.dfch, weight: p + w.fc1Weight,
                                           N: N, IC: C, OC: F)
                // ln1 = LN1(res1), res1 = x_in + proj(attention(qkv(x_in)))
                BertKernels.zero(acts.dres, count: N * C)
                BertKernels.layernormBackward(dinp: acts.dres, dout: acts.dln1, inp: res1, mean: ln1Mean,
                                              rstd: ln1Rstd, weight: p + w.ln1Weight, N: N, C: C)
                BertKernels.residualForward(out: acts.dx, inp: acts.dres, count: N * C)
                BertKernels.matmulBackward(dinp: acts.datty, dout: acts.dres, weight: p + w.attnProjWeight,
                                           N: N, IC: C, OC: C)
                BertKernels.attentionBackward(dqkv: acts.dqkv, datt: acts.datt, dout: acts.datty, qkv: qkv,
                                              att: att, lengths: record.lengths, B: B, T: T, C: C, NH: NH)
                BertKernels.matmulBackward(dinp: acts.dx, dout: acts.dqkv, weight: p + w.qkvWeight,
                                           N: N, IC: C, OC: 3 * C)
            }
            // x_0 = LN(emb), emb = inp + position + type: dinp = demb.
            BertKernels.layernormBackward(dinp: acts.demb, dout: acts.dx, inp: acts.emb, mean: acts.embMean,
                                          rstd: acts.embRstd, weight: p + parameters.embLnWeight, N: N, C: C)
        }
    }
}
