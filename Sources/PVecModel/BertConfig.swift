import Foundation

/// The hyperparameters of a BERT encoder (post-LayerNorm, absolute positions, erf GELU).
///
/// `miniLML6` is all-MiniLM-L6-v2; tests build tiny random models from the same code paths
/// with their own configuration.
///
/// ```swift
/// let tiny = BertConfig(vocabularySize: 50, width: 16, layers: 2, heads: 2, ffnWidth: 32)
/// ```
public struct BertConfig: Sendable, Equatable, Codable {
    /// V: rows of the word-embedding table.
    public var vocabularySize: Int
    /// C: the hidden width.
    public var width: Int
    /// L: encoder layers.
    public var layers: Int
    /// NH: attention heads; C must be a multiple of NH.
    public var heads: Int
    /// F: the feed-forward inner width.
    public var ffnWidth: Int
    /// Rows of the position-embedding table: the longest sequence the model takes.
    public var maxPositions: Int
    /// Rows of the token-type table (2: first and second text of a pair).
    public var typeVocabularySize: Int
    public var layerNormEpsilon: Float

    public init(vocabularySize: Int, width: Int, layers: Int, heads: Int, ffnWidth: Int,
                maxPositions: Int = 512, typeVocabularySize: Int = 2, layerNormEpsilon: Float = 1e-12) {
        precondition(width % heads == 0, "width must be a multiple of the head count")
        self.vocabularySize = vocabularySize
        self.width = width
        self.layers = layers
        self.heads = heads
        self.ffnWidth = ffnWidth
        self.maxPositions = maxPositions
        self.typeVocabularySize = typeVocabularySize
        self.layerNormEpsilon = layerNormEpsilon
    }

    /// HS: the width of one attention head.
    public var headWidth: Int { width / heads }

    /// all-MiniLM-L6-v2 (the values of its config.json).
    public static let miniLML6 = BertConfig(vocabularySize: 30_522, width: 384, layers: 6, heads: 12,
                                            ffnWidth: 1536)

    /// Reads a Hugging Face BERT config.json.
    ///
    /// - Throws: `ModelError.invalidConfiguration` if a field is missing, or the model is not an
    ///   absolute-position BERT with GELU.
    public init(configJSON data: Data) throws {
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw ModelError.invalidConfiguration("config.json is not a JSON object")
        }
        func int(_ key: String) throws -> Int {
            guard let n = object[key] as? NSNumber else {
                throw ModelError.invalidConfiguration("config.json has no integer '\(key)'")
            }
            return n.intValue
        }
        if let act = object["hidden_act"] as? String, act != "gelu" {
            throw ModelError.invalidConfiguration("hidden_act '\(act)' is not supported (pvec implements erf GELU)")
        }
        if let pos = object["position_embedding_type"] as? String, pos != "absolute" {
            throw ModelError.invalidConfiguration("position_embedding_type '\(pos)' is not supported")
        }
        let width = try int("hidden_size"), heads = try int("num_attention_heads")
        guard width > 0, heads > 0, width % heads == 0 else {
            throw ModelError.invalidConfiguration("hidden_size \(width) is not a multiple of num_attention_heads \(heads)")
        }
        self.init(vocabularySize: try int("vocab_size"), width: width, layers: try int("num_hidden_layers"),
                  heads: heads, ffnWidth: try int("intermediate_size"),
                  maxPositions: try int("max_position_embeddings"),
                  typeVocabularySize: try int("type_vocab_size"),
                  layerNormEpsilon: (object["layer_norm_eps"] as? NSNumber)?.floatValue ?? 1e-12)
    }
}
