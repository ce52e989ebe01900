import PVecTensor

extension BertEncoder {
    /// The forward pass behind `forward` and `embed`.
    ///
    /// - Parameters:
    ///   - forBackward: keep every layer's activations and remember the batch for `backward`.
    func run(_ batch: [TokenizedText], prompt: Tensor?, normalize: Bool, forBackward: Bool) throws -> Tensor {
        try run(batch, prompts: prompt.map { Array(repeating: $0, count: batch.count) }, perExample: false,
                normalize: normalize, forBackward: forBackward)
    }

    /// The forward pass with one prompt per sequence (`prompts[b]`, all `[m, C]`), or none.
    ///
    /// - Parameters:
    ///   - perExample: record that the prompts may differ, so `backward` returns each
    ///     sequence's prompt gradient.
    func run(_ batch: [TokenizedText], prompts: [Tensor]?, perExample: Bool, normalize: Bool,
             forBackward: Bool) throws -> Tensor {
        precondition(!batch.isEmpty, "forward needs at least one sequence")
        precondition(prompts == nil || prompts!.count == batch.count, "one prompt per sequence")
        let C = config.width
        var m = 0
        if let first = prompts?.first {
            for prompt in prompts! {
                guard prompt.shape.rank == 2, prompt.shape.width == C else {
                    throw ModelError.promptWidthMismatch(promptShape: prompt.shape.dims, width: C)
                }
            }
            m = first.shape.rows
            precondition(prompts!.allSatisfy { $0.shape.rows == m }, "every prompt of a batch has the same rows")
        }
        let lengths = batch.map { seq -> Int in
            precondition(seq.count >= 1, "a sequence holds at least [CLS]")
            return seq.count + m
        }
        let B = batch.count
        let T = lengths.max()!
        guard T <= config.maxPositions else {
            throw ModelError.sequenceTooLong(length: T, limit: config.maxPositions)
        }
        let acts = ensureActivations(B: B, T: T, keepLayers: forBackward)
        if forBackward { lastForward = nil }
        let start = promptPlacement.firstPromptRow
        let chunks = SequenceChunks(batch: B)
        parameters.storage.withUnsafeBufferPointer { storage in
            lengths.withUnsafeBufferPointer { lengthsBuf in
                let p = storage.baseAddress!, len = lengthsBuf.baseAddress!
                chunks.forEach { _, seqs in
                    fillEmbeddings(acts, batch: batch, prompts: prompts, promptRows: m, promptStart: start,
                                   lengths: len, sequences: seqs, T: T, params: p)
                    encode(acts, lengths: len, sequences: seqs, T: T, headWorkers: chunks.count == 1 ?
                           BertKernels.attentionWorkers : 1, params: p)
                    pool(acts, lengths: len, sequences: seqs, T: T, normalize: normalize)
                }
            }
        }
        if forBackward {
            lastForward = ForwardRecord(B: B, T: T, promptRows: m, promptStart: start, lengths: lengths,
                                        normalize: normalize, perExample: perExample)
        }
        return Tensor(shape: [B, C], scalars: Array(UnsafeBufferPointer(start: acts.output, count: B * C)))
    }

    /// The cache for this batch: the current one if it fits, else a larger one.
    private func ensureActivations(B: Int, T: Int, keepLayers: Bool) -> BertActivations {
        let current = keepLayers ? activations : inferenceActivations
        if let a = current, a.fits(B: B, T: T, needsLayers: keepLayers) { return a }
        // Free the old block before allocating the new one.
        if keepLayers { activations = nil } else { inferenceActivations = nil }
        let a = BertActivations(config: config, capacity: max(B * T, current?.capacity ?? 0),
                                maxT: max(T, current?.maxT ?? 0), keepsLayers: keepLayers)
        if keepLayers { activations = a } else { inferenceActivations = a }
        return a
    }

    /// inp, emb: [B, T, C] and the embedding LayerNorm into x: [B, T, C], for the rows of the
    /// sequences in `sequences`.
    ///
    /// With s = `promptStart` (0: prepend, 1: after `[CLS]`), row t of sequence b is token t
    /// (t < s), prompt row t-s (s <= t < s+m), then token t-m; padding rows are zero before the
    /// position and type embeddings are added.
    private func fillEmbeddings(_ acts: BertActivations, batch: [TokenizedText], prompts: [Tensor]?, promptRows m: Int,
                                promptStart s: Int, lengths: UnsafePointer<Int>, sequences: Range<Int>, T: Int,
                                params p: UnsafePointer<Float>) {
        let C = config.width
        let wte = p + parameters.wordEmbeddings
        let wpe = p + parameters.positionEmbeddings
        let wtt = p + parameters.typeEmbeddings
        for b in sequences {
            let promptScalars = prompts?[b].scalars ?? []
            promptScalars.withUnsafeBufferPointer { promptBuf in
                let seq = batch[b]
                for t in 0..<T {
                    let row = acts.inp + (b * T + t) * C
                    var type = 0
                    if t >= lengths[b] {
                        BertKernels.zero(row, count: C)
                    } else if t >= s && t < s + m {
                        row.update(from: promptBuf.baseAddress! + (t - s) * C, count: C)
                    } else {
                        let j = t < s ? t : t - m
                        let id = seq.ids[j]
                        precondition(id >= 0 && id < config.vocabularySize, "token id \(id) outside the vocabulary")
                        type = seq.typeIds[j]
                        precondition(type >= 0 && type < config.typeVocabularySize, "token type \(type) out of range")
                        row.update(from: wte + id * C, count: C)
                    }
                    let e = acts.emb + (b * T + t) * C
                    let pos = wpe + t * C
                    let typ = wtt + type * C
                    for i in 0..<C { e[i] = row[i] + pos[i] + typ[i] }
                }
            }
        }
        let r0 = sequences.lowerBound * T
        BertKernels.layernormForward(out: acts.x + r0 * C, mean: acts.embMean + r0, rstd: acts.embRstd + r0,
                                     inp: acts.emb + r0 * C, weight: p + parameters.embLnWeight,
                                     bias: p + parameters.embLnBias, N: sequences.count * T, C: C,
                                     eps: config.layerNormEpsilon)
    }

    /// The encoder layers: x: [B, T, C] -> x: [B, T, C], for the rows of the sequences in
    /// `sequences` (attention heads over `headWorkers` threads).
    private func encode(_ acts: BertActivations, lengths: UnsafePointer<Int>, sequences: Range<Int>, T: Int,
                        headWorkers: Int, params p: UnsafePointer<Float>) {
        let C = config.width, F = config.ffnWidth, NH = config.heads
        let N = sequences.count * T, r0 = sequences.lowerBound * T
        let cap = acts.capacity
        let eps = config.layerNormEpsilon
        let x = acts.x + r0 * C, atty = acts.atty + r0 * C, ln1 = acts.ln1 + r0 * C, fchGelu = acts.fchGelu + r0 * F
        for (l, w) in parameters.layers.enumerated() {
            let qkvAll = acts.slice(acts.qkv, layer: l, perLayer: cap * 3 * C)
            let att = acts.slice(acts.att, layer: l, perLayer: cap * NH * acts.maxT)
            let qkv = qkvAll + r0 * 3 * C
            let res1 = acts.slice(acts.res1, layer: l, perLayer: cap * C) + r0 * C
            let ln1Mean = acts.slice(acts.ln1Mean, layer: l, perLayer: cap) + r0
            let ln1Rstd = acts.slice(acts.ln1Rstd, layer: l, perLayer: cap) + r0
            let fch = acts.slice(acts.fch, layer: l, perLayer: cap * F) + r0 * F
            let res2 = acts.slice(acts.res2, layer: l, perLayer: cap * C) + r0 * C
            let ln2Mean = acts.slice(acts.ln2Mean, layer: l, perLayer: cap) + r0
            let ln2Rstd = acts.slice(acts.ln2Rstd, layer: l, perLayer: cap) + r0

            BertKernels.matmulForward(out: qkv, inp: x, weight: p + w.qkvWeight, bias: p + w.qkvBias,
                                      N: N, IC: C, OC: 3 * C)
            BertKernels.attentionForward(out: acts.atty, att: att, qkv: qkvAll, lengths: lengths,
                                         sequences: sequences, T: T, C: C, NH: NH, workers: headWorkers)
            BertKernels.matmulForward(out: res1, inp: atty, weight: p + w.attnProjWeight,
                                      bias: p + w.attnProjBias, N: N, IC: C, OC: C)
            BertKernels.residualForward(out: res1, inp: x, count: N * C)
            BertKernels.layernormForward(out: ln1, mean: ln1Mean, rstd: ln1Rstd, inp: res1,
                                         weight: p + w.ln1Weight, bias: p + w.ln1Bias, N: N, C: C, eps: eps)
            BertKernels.matmulForward(out: fch, inp: ln1, weight: p + w.fc1Weight, bias: p + w.fc1Bias,
                                      N: N, IC: C, OC: F)
            BertKernels.geluForward(out: fchGelu, inp: fch, count: N * F)
            BertKernels.matmulForward(out: res2, inp: fchGelu, weight: p + w.fc2Weight,
                                      bias: p + w.fc2Bias, N: N, IC: F, OC: C)
            BertKernels.residualForward(out: res2, inp: ln1, count: N * C)
            BertKernels.layernormForward(out: x, mean: ln2Mean, rstd: ln2Rstd, inp: res2,
                                         weight: p + w.ln2Weight, bias: p + w.ln2Bias, N: N, C: C, eps: eps)
        }
    }

    /// x: [B, T, C] -> pooled: [B, C] (mean over each sequence's positions) -> output: [B, C],
    /// for the sequences in `sequences`.
    private func pool(_ acts: BertActivations, lengths: UnsafePointer<Int>, sequences: Range<Int>, T: Int,
                      normalize: Bool) {
        let C = config.width
        for b in sequences {
            let out = acts.pooled + b * C
            BertKernels.zero(out, count: C)
            for t in 0..<lengths[b] {
                BertKernels.residualForward(out: out, inp: acts.x + (b * T + t) * C, count: C)
            }
            let inv = 1 / Float(lengths[b])
            var sq: Float = 0
            for i in 0..<C {
                out[i] *= inv
                sq += out[i] * out[i]
            }
            let norm = sq.squareRoot()
            acts.poolNorm[b] = norm
            let y = acts.output + b * C
            let scale: Float = normalize ? 1 / max(norm, 1e-12) : 1
            for i in 0..<C { y[i] = out[i] * scale }
        }
    }
}
