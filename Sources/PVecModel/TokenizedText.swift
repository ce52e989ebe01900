/// A text (or pair of texts) as model input: `[CLS] a [SEP]` or `[CLS] a [SEP] b [SEP]`.
///
/// `typeIds` is 0 through the first `[SEP]` and 1 after it.
public struct TokenizedText: Sendable, Equatable, Hashable, Codable {
    /// Vocabulary ids, special tokens included.
    public var ids: [Int]
    /// Token types (segment ids), one per id.
    public var typeIds: [Int]

    public init(ids: [Int], typeIds: [Int]) {
        precondition(ids.count == typeIds.count, "one type id per token id")
        self.ids = ids
        self.typeIds = typeIds
    }

    public var count: Int { ids.count }
}
