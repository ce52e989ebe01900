import PVecTensor

/// The frozen weights of a BERT encoder, allocated in one block.
///
/// Each field is the offset of one tensor in `storage`, with its shape beside it. Linear
/// weights keep the PyTorch layout `[out, in]`, so a layer computes `y = x Wᵀ + b`. The
/// query, key and value projections are stacked into one `[3C, C]` matrix at load time so
/// that one sgemm computes all three.
struct BertParameters: Sendable {
    struct Layer: Sendable {
        var qkvWeight: Int        // [3C, C]  rows: query, then key, then value
        var qkvBias: Int          // [3C]
        var attnProjWeight: Int   // [C, C]
        var attnProjBias: Int     // [C]
        var ln1Weight: Int        // [C]      after attention + residual
        var ln1Bias: Int          // [C]
        var fc1Weight: Int        // [F, C]
        var fc1Bias: Int          // [F]
        var fc2Weight: Int        // [C, F]
        var fc2Bias: Int          // [C]
        var ln2Weight: Int        // [C]      after feed-forward + residual
        var ln2Bias: Int          // [C]
    }

    let config: BertConfig
    let wordEmbeddings: Int       // [V, C]
    let positionEmbeddings: Int   // [maxPositions, C]
    let typeEmbeddings: Int       // [typeVocabularySize, C]
    let embLnWeight: Int          // [C]
    let embLnBias: Int            // [C]
    let layers: [Layer]           // L of them
    var storage: [Float]

    /// Lays out a zero-filled parameter block for `config`.
    init(zeros config: BertConfig) {
        let C = config.width, F = config.ffnWidth
        var cursor = 0
        func take(_ n: Int) -> Int { defer { cursor += n }; return cursor }
        self.config = config
        wordEmbeddings = take(config.vocabularySize * C)
        positionEmbeddings = take(config.maxPositions * C)
        typeEmbeddings = take(config.typeVocabularySize * C)
        embLnWeight = take(C)
        embLnBias = take(C)
        var layers: [Layer] = []
        for _ in 0..<config.layers {
            layers.append(Layer(
                qkvWeight: take(3 * C * C), qkvBias: take(3 * C),
                attnProjWeight: take(C * C), attnProjBias: take(C),
                ln1Weight: take(C), ln1Bias: take(C),
                fc1Weight: take(F * C), fc1Bias: take(F),
                fc2Weight: take(C * F), fc2Bias: take(C),
                ln2Weight: take(C), ln2Bias: take(C)))
        }
        self.layers = layers
        storage = [Float](repeating: 0, count: cursor)
    }

    /// Rows `ids` of the word-embedding table as a `[ids.count, C]` tensor.
    func wordEmbeddingRows(_ ids: Range<Int>) -> Tensor {
        precondition(ids.lowerBound >= 0 && ids.upperBound <= config.vocabularySize, "row range outside the vocabulary")
        let C = config.width
        let start = wordEmbeddings + ids.lowerBound * C
        return Tensor(shape: [ids.count, C], scalars: Array(storage[start..<(start + ids.count * C)]))
    }
}

// MARK: - Loading

extension BertParameters {
    /// Copies the weights of a Hugging Face BERT checkpoint.
    ///
    /// Key names are found relative to the tensor ending in `embeddings.word_embeddings.weight`,
    /// so checkpoints saved from `BertModel` (no prefix) and from task heads (`bert.` prefix)
    /// both load. Pooler and head weights are ignored.
    ///
    /// - Throws: `ModelError.missingWeight` or `.weightShapeMismatch`.
    init(safetensors file: SafetensorsFile, config: BertConfig) throws {
        self.init(zeros: config)
        let anchor = "embeddings.word_embeddings.weight"
        guard let wordKey = file.keys.first(where: { $0.hasSuffix(anchor) }) else {
            throw ModelError.missingWeight(name: anchor, available: file.keys)
        }
        let prefix = String(wordKey.dropLast(anchor.count))
        let C = config.width, F = config.ffnWidth
        func copy(_ name: String, _ shape: [Int], to offset: Int) throws {
            let key = prefix + name
            guard file.keys.contains(key) else { throw ModelError.missingWeight(name: key, available: file.keys) }
            let t = try file.tensor(key)
            guard t.shape.dims == shape else {
                throw ModelError.weightShapeMismatch(name: key, expected: shape, actual: t.shape.dims)
            }
            storage.replaceSubrange(offset..<(offset + t.count), with: t.scalars)
        }
        try copy("embeddings.word_embeddings.weight", [config.vocabularySize, C], to: wordEmbeddings)
        try copy("embeddings.position_embeddings.weight", [config.maxPositions, C], to: positionEmbeddings)
        try copy("embeddings.token_type_embeddings.weight", [config.typeVocabularySize, C], to: typeEmbeddings)
        try copy("embeddings.LayerNorm.weight", [C], to: embLnWeight)
        try copy("embeddings.LayerNorm.bias", [C], to: embLnBias)
        for (l, layer) in layers.enumerated() {
            let p = "encoder.layer.\(l)."
            for (i, part) in ["query", "key", "value"].enumerated() {
                try copy(p + "attention.self.\(part).weight", [C, C], to: layer.qkvWeight + i * C * C)
                try copy(p + "attention.self.\(part).bias", [C], to: layer.qkvBias + i * C)
            }
            try copy(p + "attention.output.dense.weight", [C, C], to: layer.attnProjWeight)
            try copy(p + "attention.output.dense.bias", [C], to: layer.attnProjBias)
            try copy(p + "attention.output.LayerNorm.weight", [C], to: layer.ln1Weight)
            try copy(p + "attention.output.LayerNorm.bias", [C], to: layer.ln1Bias)
            try copy(p + "intermediate.dense.weight", [F, C], to: layer.fc1Weight)
            try copy(p + "intermediate.dense.bias", [F], to: layer.fc1Bias)
            try copy(p + "output.dense.weight", [C, F], to: layer.fc2Weight)
            try copy(p + "output.dense.bias", [C], to: layer.fc2Bias)
            try copy(p + "output.LayerNorm.weight", [C], to: layer.ln2Weight)
            try copy(p + "output.LayerNorm.bias", [C], to: layer.ln2Bias)
        }
    }

    /// Random weights for tests: the same code paths as a checkpoint, at any size.
    ///
    /// Linear weights are uniform in ±1/√in, LayerNorm gains near 1, everything else small,
    /// so activations stay in the range a trained model sees.
    init(random config: BertConfig, seed: UInt64) {
        self.init(zeros: config)
        var rng = SplitMix64(seed: seed)
        let C = config.width, F = config.ffnWidth
        func fill(_ offset: Int, _ count: Int, center: Float = 0, scale: Float) {
            for i in offset..<(offset + count) {
                storage[i] = center + scale * (2 * rng.nextFloat01() - 1)
            }
        }
        fill(wordEmbeddings, config.vocabularySize * C, scale: 0.5)
        fill(positionEmbeddings, config.maxPositions * C, scale: 0.2)
        fill(typeEmbeddings, config.typeVocabularySize * C, scale: 0.2)
        fill(embLnWeight, C, center: 1, scale: 0.2)
        fill(embLnBias, C, scale: 0.1)
        let sC = 1 / Float(C).squareRoot(), sF = 1 / Float(F).squareRoot()
        for layer in layers {
            fill(layer.qkvWeight, 3 * C * C, scale: 2 * sC)
            fill(layer.qkvBias, 3 * C, scale: 0.1)
            fill(layer.attnProjWeight, C * C, scale: sC)
            fill(layer.attnProjBias, C, scale: 0.1)
            fill(layer.ln1Weight, C, center: 1, scale: 0.2)
            fill(layer.ln1Bias, C, scale: 0.1)
            fill(layer.fc1Weight, F * C, scale: sC)
            fill(layer.fc1Bias, F, scale: 0.1)
            fill(layer.fc2Weight, C * F, scale: sF)
            fill(layer.fc2Bias, C, scale: 0.1)
            fill(layer.ln2Weight, C, center: 1, scale: 0.2)
            fill(layer.ln2Bias, C, scale: 0.1)
        }
    }
}
