import PVecModel

/// Learning rates of tensors that live in embedding space (prompts) are given in units of the
/// backbone's embedding RMS, so one setting means the same step on backbones whose embeddings
/// differ in scale (T5's rows are two orders of magnitude larger than MiniLM's). Weights of
/// modules (ATTEMPT's G, DAM's W_Q/W_K/W_V, ComPT's encoders and router) are ordinary network
/// weights and use their rates as given.
extension BackboneModel {
    /// RMS of the first 5,000 word-embedding rows (the rows inits are sampled from): the
    /// natural step size of a prompt row, ≈ 0.054 for all-MiniLM-L6-v2.
    var embeddingRMS: Float {
        let t = wordEmbeddings(rows: 0..<min(5000, vocabularySize))
        var sum: Double = 0
        for x in t.scalars { sum += Double(x) * Double(x) }
        return Float((sum / Double(max(t.count, 1))).squareRoot())
    }
}

extension TrainConfig {
    /// This config with `learningRateScale` measured from `model` when it is nil. Trainers call
    /// it once, so the recipe records the scale that was used.
    func resolvingScale(for model: any BackboneModel) -> TrainConfig {
        var c = self
        if c.learningRateScale == nil { c.learningRateScale = model.embeddingRMS }
        return c
    }

    /// The raw AdamW peak rate of a prompt-space tensor whose rate `rate` is in embedding-RMS
    /// units. Call it on a resolved config (`resolvingScale(for:)`).
    func promptRate(_ rate: Float) -> Float {
        precondition(learningRateScale != nil, "promptRate needs a config resolved with resolvingScale(for:)")
        return rate * learningRateScale!
    }
}
