import XCTest
import PVecTensor
@testable import PVecModel

/// all-MiniLM-L6-v2 against fixtures/model/reference.json (scripts/make_model_fixtures.py):
/// token ids exactly; embeddings to cosine > 0.9999 and max abs error < 1e-4.
final class ReferenceFixtureTests: XCTestCase {
    func testTokenIDsMatchReferenceExactly() throws {
        let ref = try ModelReference.load()
        let encoder = try RealModel.encoder()
        for c in ref.cases {
            let t = encoder.tokenize(c.text_a, pair: c.text_b, maxLength: c.max_length)
            XCTAssertEqual(t.ids, c.ids, "ids of \(c.text_a.debugDescription) / \(c.text_b ?? "-")")
            XCTAssertEqual(t.typeIds, c.type_ids, "type ids of \(c.text_a.debugDescription)")
        }
        let p = encoder.tokenize(ref.prompted.text_a, pair: nil, maxLength: 256)
        XCTAssertEqual(p.ids, ref.prompted.ids)
    }

    func testBatchedEmbeddingsMatchReference() throws {
        let ref = try ModelReference.load()
        let encoder = try RealModel.encoder()
        // One padded batch of every case (lengths 2 to 40-odd, pairs included).
        let batch = ref.cases.map { encoder.tokenize($0.text_a, pair: $0.text_b, maxLength: $0.max_length) }
        let out = try encoder.forward(batch, prompt: nil, normalize: true)
        var worstCos = 1.0, worstDiff = 0.0
        for (b, c) in ref.cases.enumerated() {
            let row = Array(out.scalars[(b * 384)..<((b + 1) * 384)])
            let (cos, diff) = compare(row, c.embedding)
            worstCos = min(worstCos, cos)
            worstDiff = max(worstDiff, diff)
            XCTAssertGreaterThan(cos, 0.9999, "cosine for \(c.text_a.debugDescription)")
            XCTAssertLessThan(diff, 1e-4, "max abs error for \(c.text_a.debugDescription)")
        }
        print("MiniLM batched embeddings vs numpy float64 (\(ref.cases.count) cases): min cosine \(worstCos), maxdiff \(worstDiff)")
    }

    func testEmbedMatchesReferenceForSingleTexts() throws {
        let ref = try ModelReference.load()
        let encoder = try RealModel.encoder()
        let singles = ref.cases.filter { $0.text_b == nil && $0.max_length == 256 }
        let vectors = try encoder.embed(texts: singles.map(\.text_a))
        var worstDiff = 0.0
        for (v, c) in zip(vectors, singles) {
            let (cos, diff) = compare(v, c.embedding)
            worstDiff = max(worstDiff, diff)
            XCTAssertGreaterThan(cos, 0.9999)
            XCTAssertLessThan(diff, 1e-4)
        }
        print("MiniLM embed(texts:) vs numpy float64 (\(singles.count) texts): maxdiff \(worstDiff)")
    }

    func testPromptedForwardMatchesReference() throws {
        let ref = try ModelReference.load()
        let encoder = try RealModel.encoder()
        let p = ref.prompted
        let prompt = Tensor(shape: Shape(p.prompt_shape), scalars: p.prompt)
        let seq = TokenizedText(ids: p.ids, typeIds: p.type_ids)
        let pooled = try encoder.forward([seq], prompt: prompt, normalize: false)
        let (cos1, diff1) = compare(pooled.scalars, p.pooled)
        // The same text inside a padded batch with longer and shorter neighbours.
        let others = ref.cases.prefix(4).map { TokenizedText(ids: $0.ids, typeIds: $0.type_ids) }
        let batched = try encoder.forward([seq] + others, prompt: prompt, normalize: true)
        let (cos2, diff2) = compare(Array(batched.scalars[0..<384]), p.embedding)
        print("MiniLM prompted pooled vs numpy float64: cosine \(cos1), maxdiff \(diff1); "
              + "normalised in a padded batch: cosine \(cos2), maxdiff \(diff2)")
        XCTAssertGreaterThan(cos1, 0.9999)
        XCTAssertLessThan(diff1, 1e-4)
        XCTAssertGreaterThan(cos2, 0.9999)
        XCTAssertLessThan(diff2, 1e-4)
    }
}
