import XCTest
@testable import PVecModel

final class WordPieceTokenizerTests: XCTestCase {
    private let tokenizer = try! WordPieceTokenizer(vocabulary: [
        "[PAD]", "[UNK]", "[CLS]", "[SEP]", "un", "##aff", "##able", "cafe", "naive", ",", "!", "a", "b",
        "我", "爱", "hello", "##llo", "he", "x", "é",
    ])

    func testBasicTokenizerCleansLowercasesStripsAndSplits() {
        let words = BasicTokenizer.words(in: "  Café,\tNAÏVE!\u{0007}\u{FFFD}我爱x\u{200B}y  ").map { String(String.UnicodeScalarView($0)) }
        XCTAssertEqual(words, ["cafe", ",", "naive", "!", "我", "爱", "xy"])
    }

    func testCombiningMarkAfterSpaceDoesNotGlueToTheSpace() {
        let words = BasicTokenizer.words(in: "a \u{0301}b").map { String(String.UnicodeScalarView($0)) }
        XCTAssertEqual(words, ["a", "b"])
    }

    func testGreedyLongestMatchWithContinuations() {
        XCTAssertEqual(tokenizer.pieces("unaffable"), ["un", "##aff", "##able"])
        XCTAssertEqual(tokenizer.pieces("hello"), ["hello"])
        XCTAssertEqual(tokenizer.pieces("Café, naïve!"), ["cafe", ",", "naive", "!"])
        // "é" is in the vocabulary but accents are stripped first.
        XCTAssertEqual(tokenizer.pieces("é"), ["[UNK]"])
        // A word that cannot be covered is one [UNK], not partial pieces.
        XCTAssertEqual(tokenizer.pieces("unq a"), ["[UNK]", "a"])
    }

    func testOverlongWordIsUnknown() {
        XCTAssertEqual(tokenizer.pieces(String(repeating: "a", count: 100)), ["[UNK]"])
        XCTAssertEqual(tokenizer.pieces(String(repeating: "x", count: 101) + " b"), ["[UNK]", "b"])
    }

    func testSingleAndPairEncodingWithTruncation() {
        XCTAssertEqual(tokenizer.encode("a b").ids, [2, 11, 12, 3])
        XCTAssertEqual(tokenizer.encode("").ids, [2, 3])
        XCTAssertEqual(tokenizer.encode("a b a b", maxLength: 4).ids, [2, 11, 12, 3])
        let pair = tokenizer.encode("a", pair: "b b")
        XCTAssertEqual(pair.ids, [2, 11, 3, 12, 12, 3])
        XCTAssertEqual(pair.typeIds, [0, 0, 0, 1, 1, 1])
        // Longest first, one token at a time, the second text on a tie.
        for (na, nb, budget, ea, eb) in [(10, 10, 15, 8, 7), (11, 10, 15, 8, 7), (10, 11, 15, 8, 7),
                                         (9, 2, 8, 6, 2), (2, 9, 8, 2, 6), (3, 3, 5, 3, 2), (1, 1, 2, 1, 1)] {
            let t = tokenizer.encode(Array(repeating: "a", count: na).joined(separator: " "),
                                     pair: Array(repeating: "b", count: nb).joined(separator: " "),
                                     maxLength: budget + 3)
            XCTAssertEqual(t.ids.filter { $0 == 11 }.count, ea, "\(na), \(nb) into \(budget)")
            XCTAssertEqual(t.ids.filter { $0 == 12 }.count, eb, "\(na), \(nb) into \(budget)")
        }
    }
}
