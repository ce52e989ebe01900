import Foundation
import XCTest
@testable import PVecModel

/// all-MiniLM-L6-v2, found the way the library finds it and loaded once per test process.
///
/// Only the Sendable parts are cached; each test gets its own encoder (and activation cache).
/// These tests never skip: CI fetches the model first, and a missing model fails with the
/// library's own message (run scripts/fetch-model).
enum RealModel {
    static let parts: Result<(BertParameters, WordPieceTokenizer), any Error> = Result {
        try BertEncoder.loadParts()
    }

    static func encoder() throws -> BertEncoder {
        let (parameters, tokenizer) = try parts.get()
        return BertEncoder(parameters: parameters, tokenizer: tokenizer, modelID: BertEncoder.miniLML6ModelID)
    }
}

/// The reference written by scripts/make_model_fixtures.py (numpy float64 forward).
struct ModelReference: Decodable {
    struct Case: Decodable {
        var text_a: String
        var text_b: String?
        var max_length: Int
        var ids: [Int]
        var type_ids: [Int]
        var embedding: [Float]
    }
    struct Prompted: Decodable {
        var text_a: String
        var ids: [Int]
        var type_ids: [Int]
        var prompt_shape: [Int]
        var prompt: [Float]
        var pooled: [Float]
        var embedding: [Float]
    }
    var model: String
    var cases: [Case]
    var prompted: Prompted

    static func load() throws -> ModelReference {
        let url = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("fixtures/model/reference.json")
        return try JSONDecoder().decode(ModelReference.self, from: Data(contentsOf: url))
    }
}

/// Cosine and max absolute difference of two vectors.
func compare(_ a: [Float], _ b: [Float]) -> (cosine: Double, maxdiff: Double) {
    precondition(a.count == b.count)
    var dot = 0.0, na = 0.0, nb = 0.0, maxdiff = 0.0
    for i in a.indices {
        let x = Double(a[i]), y = Double(b[i])
        dot += x * y
        na += x * x
        nb += y * y
        maxdiff = max(maxdiff, abs(x - y))
    }
    return (dot / (na.squareRoot() * nb.squareRoot()), maxdiff)
}
