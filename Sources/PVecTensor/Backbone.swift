/// The fingerprint of the embedding space a tensor lives in.
///
/// Prompts and vectors are only comparable when they were made for the same backbone: the
/// same model id, the same width and (when known) the same word-embedding table, identified
/// by the SHA-256 of its canonical encoding. Imported tensors may lack the table hash; they
/// then match on model id and width alone.
public struct Backbone: Hashable, Sendable, Codable, CustomStringConvertible {
    /// Model identifier, e.g. `sentence-transformers/all-MiniLM-L6-v2`.
    public var model: String
    /// Embedding width (the last dimension of every prompt for this backbone).
    public var width: Int
    /// SHA-256 hex of the canonical word-embedding table, when known.
    public var embedding: String?

    public init(model: String, width: Int, embedding: String? = nil) {
        self.model = model
        self.width = width
        self.embedding = embedding
    }

    /// True when tensors of the two backbones may be combined.
    public func isCompatible(with other: Backbone) -> Bool {
        guard model == other.model, width == other.width else { return false }
        if let a = embedding, let b = other.embedding { return a == b }
        return true
    }

    public var description: String {
        let e = embedding.map { " emb:" + $0.prefix(12) } ?? ""
        return "\(model) (width \(width)\(e))"
    }
}
