import PVecTensor
@testable import PVecModel

/// A small random-weight BERT that runs the same code paths as the real model.
enum TinyBert {
    static let config = BertConfig(vocabularySize: 50, width: 16, layers: 2, heads: 2, ffnWidth: 32,
                                   maxPositions: 32, typeVocabularySize: 2, layerNormEpsilon: 1e-12)

    static func encoder(seed: UInt64 = 7) throws -> BertEncoder {
        let vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]"] + (4..<config.vocabularySize).map { "w\($0)" }
        return BertEncoder(parameters: BertParameters(random: config, seed: seed),
                           tokenizer: try WordPieceTokenizer(vocabulary: vocab), modelID: "test/tiny-bert")
    }

    /// Three sequences of different lengths (one a pair with type ids 1), so the batch pads.
    static let batch: [TokenizedText] = [
        TokenizedText(ids: [2, 10, 11, 12, 3], typeIds: [0, 0, 0, 0, 0]),
        TokenizedText(ids: [2, 20, 21, 3, 30, 31, 32, 3], typeIds: [0, 0, 0, 0, 1, 1, 1, 1]),
        TokenizedText(ids: [2, 44, 3], typeIds: [0, 0, 0]),
    ]

    /// Deterministic values in [-scale, scale).
    static func uniform(_ count: Int, seed: UInt64, scale: Float) -> [Float] {
        var rng = SplitMix64(seed: seed)
        return (0..<count).map { _ in scale * (2 * rng.nextFloat01() - 1) }
    }
}
