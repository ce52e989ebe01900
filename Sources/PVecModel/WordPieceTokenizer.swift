import Foundation

/// BERT's uncased WordPiece tokenizer: `BasicTokenizer` words, then greedy longest-match-first
/// pieces with `##` marking a piece that continues a word.
///
/// A word longer than 100 scalars, or one that cannot be covered by vocabulary pieces,
/// becomes a single `[UNK]`. Vocabulary lookups compare UTF-8 bytes, not Swift strings:
/// `String` equality is canonical equivalence, which would let a decomposed Hangul syllable
/// match its precomposed vocabulary entry where the reference tokenizer does not.
///
/// ```swift
/// let tok = try WordPieceTokenizer(vocabularyFile: dir.appending(path: "vocab.txt"))
/// tok.encode("unaffable").ids                  // [101, 14477, 20961, 3468, 102]
/// tok.encode("a premise", pair: "a hypothesis") // type ids 0 … 0 1 … 1
/// ```
public struct WordPieceTokenizer: Sendable {
    /// Tokens by id.
    public let vocabulary: [String]
    private let index: [[UInt8]: Int]
    public let clsID: Int
    public let sepID: Int
    public let padID: Int
    public let unkID: Int
    /// Longer words become `[UNK]` without being split.
    public let maxScalarsPerWord = 100

    /// - Throws: `ModelError.invalidConfiguration` if a special token is missing.
    public init(vocabulary: [String]) throws {
        var index: [[UInt8]: Int] = [:]
        index.reserveCapacity(vocabulary.count)
        for (i, token) in vocabulary.enumerated() where index[Array(token.utf8)] == nil {
            index[Array(token.utf8)] = i
        }
        func special(_ token: String) throws -> Int {
            guard let id = index[Array(token.utf8)] else {
                throw ModelError.invalidConfiguration("the vocabulary has no \(token) token")
            }
            return id
        }
        self.vocabulary = vocabulary
        self.index = index
        clsID = try special("[CLS]")
        sepID = try special("[SEP]")
        padID = try special("[PAD]")
        unkID = try special("[UNK]")
    }

    /// Reads a BERT vocab.txt: one token per line, the line number is the id.
    ///
    /// - Throws: `ModelError.missingFile` or `.invalidConfiguration`.
    public init(vocabularyFile url: URL) throws {
        guard let data = try? Data(contentsOf: url) else { throw ModelError.missingFile(path: url.path) }
        var lines = data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        if lines.last?.isEmpty == true { lines.removeLast() }
        var tokens: [String] = []
        tokens.reserveCapacity(lines.count)
        for line in lines {
            guard let s = String(bytes: line, encoding: .utf8) else {
                throw ModelError.invalidConfiguration("\(url.path) line \(tokens.count + 1) is not UTF-8")
            }
            tokens.append(s)
        }
        try self.init(vocabulary: tokens)
    }

    /// The vocabulary id of `token`, if it is in the vocabulary.
    public func id(of token: String) -> Int? { index[Array(token.utf8)] }

    /// The WordPiece ids of `text`, without special tokens.
    public func pieceIDs(_ text: String) -> [Int] {
        var ids: [Int] = []
        for word in BasicTokenizer.words(in: text) { appendPieces(of: word, to: &ids) }
        return ids
    }

    /// The WordPiece tokens of `text` as strings, without special tokens (for inspection).
    public func pieces(_ text: String) -> [String] { pieceIDs(text).map { vocabulary[$0] } }

    private func appendPieces(of word: [Unicode.Scalar], to ids: inout [Int]) {
        if word.count > maxScalarsPerWord {
            ids.append(unkID)
            return
        }
        let mark = Array("##".utf8)
        let scalarBytes = word.map { Array(String($0).utf8) }
        var found: [Int] = []
        var start = 0
        while start < word.count {
            var end = word.count
            var match: Int?
            while start < end {
                var key = start > 0 ? mark : []
                for i in start..<end { key += scalarBytes[i] }
                if let id = index[key] {
                    match = id
                    break
                }
                end -= 1
            }
            guard let match else {
                ids.append(unkID)
                return
            }
            found.append(match)
            start = end
        }
        ids += found
    }

    /// `[CLS] text [SEP]`, or `[CLS] text [SEP] pair [SEP]` with type ids 0 then 1.
    ///
    /// - Parameters:
    ///   - maxLength: the most ids to return, special tokens included. A single text loses
    ///     its tail; a pair loses tokens one at a time from the end of whichever text is
    ///     longer at that moment (the second on a tie), as BERT's "longest first" does.
    public func encode(_ text: String, pair: String? = nil, maxLength: Int = 512) -> TokenizedText {
        precondition(maxLength >= (pair == nil ? 2 : 3), "maxLength must leave room for the special tokens")
        var a = pieceIDs(text)
        guard let pair else {
            a = Array(a.prefix(maxLength - 2))
            let ids = [clsID] + a + [sepID]
            return TokenizedText(ids: ids, typeIds: [Int](repeating: 0, count: ids.count))
        }
        var b = pieceIDs(pair)
        let budget = maxLength - 3
        if a.count + b.count > budget {
            // Closed form of removing one token at a time from the longer text.
            let total = a.count + b.count
            var (na, nb) = (a.count, b.count)
            let excess = total - budget
            if na > nb {
                let cut = min(excess, na - nb)
                na -= cut
            } else if nb > na {
                let cut = min(excess, nb - na)
                nb -= cut
            }
            let left = na + nb - budget
            if left > 0 {
                // Equal now; alternate starting with the second text.
                nb -= (left + 1) / 2
                na -= left / 2
            }
            a = Array(a.prefix(na))
            b = Array(b.prefix(nb))
        }
        let ids = [clsID] + a + [sepID] + b + [sepID]
        let types = [Int](repeating: 0, count: a.count + 2) + [Int](repeating: 1, count: b.count + 1)
        return TokenizedText(ids: ids, typeIds: types)
    }
}
