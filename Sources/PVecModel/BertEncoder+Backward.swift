extension BertEncoder {
    /// dOutput: [B, C] -> acts.demb: [B, T, C], through pooling, the layers in reverse and the
    /// embedding LayerNorm. No weight gradients: the backbone is frozen.
    ///
    /// The sequences run in the forward's chunks (`SequenceChunks`), each on its own rows of
    /// every buffer. Every gradient buffer is written before it is read (no zero-grad pass):
    /// the first contribution to a row is stored, the later ones are added.
    func backwardPass(_ dOutput: [Float], record: ForwardRecord, acts: BertActivations) {
        let T = record.T
        let chunks = SequenceChunks(batch: record.B)
        let headWorkers = chunks.count == 1 ? min(BertKernels.attentionWorkers, acts.scratchSlots) : 1
        parameters.storage.withUnsafeBufferPointer { storage in
            dOutput.withUnsafeBufferPointer { dyBuf in
                record.lengths.withUnsafeBufferPointer { lengthsBuf in
                    let p = storage.baseAddress!, dy = dyBuf.baseAddress!, len = lengthsBuf.baseAddress!
                    chunks.forEach { chunk, seqs in
                        let scratch = acts.datt + (chunks.count == 1 ? 0 : chunk * T * T)
                        backwardChunk(dy, record: record, acts: acts, lengths: len, sequences: seqs,
                                      scratch: scratch, headWorkers: headWorkers, params: p)
                    }
                }
            }
        }
    }

    /// The backward pass of the rows of the sequences in `sequences`.
    private func backwardChunk(_ dOutput: UnsafePointer<Float>, record: ForwardRecord, acts: BertActivations,
                               lengths: UnsafePointer<Int>, sequences: Range<Int>, scratch: UnsafeMutablePointer<Float>,
                               headWorkers: Int, params p: UnsafePointer<Float>) {
        let T = record.T, N = sequences.count * T, r0 = sequences.lowerBound * T
        let C = config.width, F = config.ffnWidth, NH = config.heads
        let cap = acts.capacity
        let dx = acts.dx + r0 * C, dres = acts.dres + r0 * C, dln1 = acts.dln1 + r0 * C
        let datty = acts.datty + r0 * C, dqkv = acts.dqkv + r0 * 3 * C
        let dfchGelu = acts.dfchGelu + r0 * F, dfch = acts.dfch + r0 * F
        // Pooling (and normalisation): y = p / ‖p‖ gives dp = (dy - y (y·dy)) / ‖p‖;
        // p = mean of x over the sequence gives dx_t = dp / length (0 on padding rows).
        for b in sequences {
            let dy = dOutput + b * C
            let y = acts.output + b * C
            let dp = acts.dpooled + b * C
            if record.normalize {
                var dot: Float = 0
                for i in 0..<C { dot += y[i] * dy[i] }
                let inv = 1 / max(acts.poolNorm[b], 1e-12)
                for i in 0..<C { dp[i] = (dy[i] - y[i] * dot) * inv }
            } else {
                for i in 0..<C { dp[i] = dy[i] }
            }
            let n = lengths[b]
            let share = 1 / Float(n)
            for t in 0..<n {
                let row = acts.dx + (b * T + t) * C
                for i in 0..<C { row[i] = dp[i] * share }
            }
            if n < T { BertKernels.zero(acts.dx + (b * T + n) * C, count: (T - n) * C) }
        }
        for l in stride(from: config.layers - 1, through: 0, by: -1) {
            let w = parameters.layers[l]
            let qkvAll = acts.slice(acts.qkv, layer: l, perLayer: cap * 3 * C)
            let att = acts.slice(acts.att, layer: l, perLayer: cap * NH * acts.maxT)
            let res1 = acts.slice(acts.res1, layer: l, perLayer: cap * C) + r0 * C
            let ln1Mean = acts.slice(acts.ln1Mean, layer: l, perLayer: cap) + r0
            let ln1Rstd = acts.slice(acts.ln1Rstd, layer: l, perLayer: cap) + r0
            let fch = acts.slice(acts.fch, layer: l, perLayer: cap * F) + r0 * F
            let res2 = acts.slice(acts.res2, layer: l, perLayer: cap * C) + r0 * C
            let ln2Mean = acts.slice(acts.ln2Mean, layer: l, perLayer: cap) + r0
            let ln2Rstd = acts.slice(acts.ln2Rstd, layer: l, perLayer: cap) + r0
            // x_out = LN2(res2), res2 = ln1 + fc2(gelu(fc1(ln1)))
            BertKernels.layernormBackward(dinp: dres, dout: dx, inp: res2, mean: ln2Mean,
                                          rstd: ln2Rstd, weight: p + w.ln2Weight, N: N, C: C)
            // dx now gathers this layer's input gradient; ln1 feeds both the residual and fc1.
            dln1.update(from: dres, count: N * C)
            BertKernels.matmulBackward(dinp: dfchGelu, dout: dres, weight: p + w.fc2Weight,
                                       N: N, IC: F, OC: C, accumulate: false)
            BertKernels.geluBackward(dinp: dfch, inp: fch, dout: dfchGelu, count: N * F)
            BertKernels.matmulBackward(dinp: dln1, dout: dfch, weight: p + w.fc1Weight, N: N, IC: C, OC: F)
            // ln1 = LN1(res1), res1 = x_in + proj(attention(qkv(x_in)))
            BertKernels.layernormBackward(dinp: dres, dout: dln1, inp: res1, mean: ln1Mean,
                                          rstd: ln1Rstd, weight: p + w.ln1Weight, N: N, C: C)
            dx.update(from: dres, count: N * C)
            BertKernels.matmulBackward(dinp: datty, dout: dres, weight: p + w.attnProjWeight,
                                       N: N, IC: C, OC: C, accumulate: false)
            BertKernels.attentionBackward(dqkv: acts.dqkv, scratch: scratch, dout: acts.datty, qkv: qkvAll,
                                          att: att, lengths: lengths, sequences: sequences, T: T, C: C, NH: NH,
                                          workers: headWorkers)
            BertKernels.matmulBackward(dinp: dx, dout: dqkv, weight: p + w.qkvWeight, N: N, IC: C, OC: 3 * C)
        }
        // x_0 = LN(emb), emb = inp + position + type: dinp = demb.
        BertKernels.layernormBackward(dinp: acts.demb + r0 * C, dout: dx, inp: acts.emb + r0 * C,
                                      mean: acts.embMean + r0, rstd: acts.embRstd + r0,
                                      weight: p + parameters.embLnWeight, N: N, C: C)
    }
}
