import Foundation
import PVecStore
import PVecTensor
import XCTest
@testable import PVecOps

/// Each typed recipe of PVecOps reads back what it writes, byte for byte, and names the
/// parameter it cannot read.
final class TypedRecipeTests: XCTestCase {
    let someID = "ab" + String(repeating: "0", count: 62)

    /// T → params → canonical bytes → parse → T gives the same value and the same bytes.
    func assertRoundTrip<T: TypedRecipe>(_ r: T, file: StaticString = #filePath, line: UInt = #line) throws {
        let bytes = JSONValue.object(r.params).canonicalBytes
        let parsed = try XCTUnwrap(try JSONValue.parse(Data(bytes)).objectValue, file: file, line: line)
        let back = try T(params: parsed)
        XCTAssertEqual(back, r, file: file, line: line)
        XCTAssertEqual(JSONValue.object(back.params).canonicalBytes, bytes, file: file, line: line)
        let decoded = try RecipeDecoder(OpsRecipes.all).decode(r.recipe)
        XCTAssertEqual(decoded as? T, r, file: file, line: line)
        XCTAssertEqual(r.recipe.op, T.op, file: file, line: line)
    }

    /// Reading `params` throws `StoreError.malformedRecipe` for T's op, naming `key`.
    func assertMalformed<T: TypedRecipe>(_ type: T.Type, _ params: [String: JSONValue], naming key: String,
                                         file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try T(params: params), file: file, line: line) { e in
            guard case StoreError.malformedRecipe(let op, let reason) = e else {
                return XCTFail("expected malformedRecipe, got \(e)", file: file, line: line)
            }
            XCTAssertEqual(op, T.op, file: file, line: line)
            XCTAssertTrue(reason.contains("'\(key)'"), "'\(reason)' does not name \(key)", file: file, line: line)
        }
    }

    func testEveryOpIsListedOnceWithADistinctType() {
        let ops = OpsRecipes.all.map { $0.op }
        XCTAssertEqual(ops.count, Set(ops).count)
        XCTAssertEqual(Set(ops), ["import", "vector", "add", "sub", "neg", "scale", "init", "merge", "spot", "compose"])
        XCTAssertEqual(RecipeDecoder(OpsRecipes.all).ops, ops.sorted())
        XCTAssertTrue(Derivation.recomputableOps.isSubset(of: Set(ops)))
        XCTAssertFalse(Derivation.recomputableOps.contains("import"))
    }

    func testDecoderRefusesUnknownOpsAndAnotherTypesRecipe() {
        XCTAssertThrowsError(try RecipeDecoder(OpsRecipes.all).decode(Recipe(op: "train"))) { e in
            XCTAssertEqual(e as? StoreError, .malformedRecipe(op: "train", reason: "no recipe type knows this op"))
        }
        XCTAssertThrowsError(try ScaleRecipe(AddRecipe(lambda: 1).recipe))
    }

    func testImport() throws {
        try assertRoundTrip(ImportRecipe(format: .npy, sha256: "00ff"))
        try assertRoundTrip(ImportRecipe(format: .safetensors, sha256: "ab", key: "prompt", nonfinite: true))
        try assertRoundTrip(ImportRecipe(format: .peft, sha256: "cd", key: "prompt_embeddings",
                                         peftConfig: ["peft_type": "PROMPT_TUNING", "num_virtual_tokens": 4]))
        XCTAssertEqual(ImportRecipe(format: .npy, sha256: "00").params, ["format": "npy", "sha256": "00"])
        assertMalformed(ImportRecipe.self, ["sha256": "00"], naming: "format")
        assertMalformed(ImportRecipe.self, ["format": "csv", "sha256": "00"], naming: "format")
        assertMalformed(ImportRecipe.self, ["format": "npy"], naming: "sha256")
        assertMalformed(ImportRecipe.self, ["format": "npy", "sha256": "00", "key": 3], naming: "key")
        assertMalformed(ImportRecipe.self, ["format": "peft", "sha256": "00", "peft_config": "x"], naming: "peft_config")
        assertMalformed(ImportRecipe.self, ["format": "npy", "sha256": "00", "nonfinite": false], naming: "nonfinite")
    }

    func testParameterlessRecipes() throws {
        try assertRoundTrip(VectorRecipe())
        try assertRoundTrip(SubRecipe())
        try assertRoundTrip(NegRecipe())
        XCTAssertEqual(VectorRecipe().recipe, Recipe(op: "vector"))
        XCTAssertEqual(SubRecipe().recipe, Recipe(op: "sub"))
        XCTAssertEqual(NegRecipe().recipe, Recipe(op: "neg"))
    }

    func testCompose() throws {
        try assertRoundTrip(ComposeRecipe(weights: .perSource([0.25, -1.5, 0.1])))
        try assertRoundTrip(ComposeRecipe(weights: .perRow([0.5, 0.25, 1, 2], rows: 2), fit: ["method": "gradient", "steps": 3]))
        let ok: [String: JSONValue] = ["weights": .array([.double(0.5), .double(0.25)]), "per_row": .bool(false)]
        XCTAssertEqual(try ComposeRecipe(params: ok).weights, .perSource([0.5, 0.25]))
        assertMalformed(ComposeRecipe.self, ["per_row": .bool(false)], naming: "weights")
        assertMalformed(ComposeRecipe.self, ["weights": .array([]), "per_row": .bool(false)], naming: "weights")
        assertMalformed(ComposeRecipe.self, ["weights": .array([.double(0.1)]), "per_row": .bool(false)], naming: "weights")
        assertMalformed(ComposeRecipe.self, ["weights": .array([.double(1e300)]), "per_row": .bool(false)], naming: "weights")
        assertMalformed(ComposeRecipe.self, ["weights": .array([.double(0.5)])], naming: "per_row")
        assertMalformed(ComposeRecipe.self, ["weights": .array([.double(0.5), .double(1)]), "per_row": .bool(true)], naming: "rows")
        assertMalformed(ComposeRecipe.self, ["weights": .array([.double(0.5), .double(1), .double(2)]), "per_row": .bool(true),
                                             "rows": .int(2)], naming: "rows")
        assertMalformed(ComposeRecipe.self, ["weights": .array([.double(0.5)]), "per_row": .bool(true), "rows": .int(0)], naming: "rows")
        assertMalformed(ComposeRecipe.self, ["weights": .array([.double(0.5)]), "per_row": .bool(false), "fit": "x"], naming: "fit")
        // The recipe refuses parents that do not fit its weights: no init, another number of vectors.
        let t = Tensor(shape: [2, 2], scalars: [1, 2, 3, 4])
        let r = ComposeRecipe(weights: .perSource([0.5, 0.5]))
        XCTAssertThrowsError(try r.apply(init: nil, vectors: [t, t]))
        XCTAssertThrowsError(try r.apply(init: t, vectors: [t]))
        XCTAssertEqual(try r.apply(init: t, vectors: [t, t]).scalars, [2, 4, 6, 8])
    }

    func testAddAndScale() throws {
        try assertRoundTrip(AddRecipe(lambda: 0.5))
        try assertRoundTrip(ScaleRecipe(by: -2.5))
        // A whole number reads back from the integer JSON writes for it.
        XCTAssertEqual(try AddRecipe(params: ["lambda": .int(1)]), AddRecipe(lambda: 1))
        XCTAssertEqual(JSONValue.object(AddRecipe(lambda: 1).params).canonicalString, #"{"lambda":1}"#)
        assertMalformed(AddRecipe.self, [:], naming: "lambda")
        assertMalformed(AddRecipe.self, ["lambda": "half"], naming: "lambda")
        assertMalformed(ScaleRecipe.self, ["factor": 2], naming: "by")
    }

    func testInit() throws {
        try assertRoundTrip(InitRecipe(method: .uniform, rows: 4, width: 8, seed: 7, range: 0.25))
        try assertRoundTrip(InitRecipe(method: .vocabSample, rows: 4, width: 384, seed: 5, firstK: 5000))
        try assertRoundTrip(InitRecipe(method: .uniform, rows: 1, width: 1, seed: UInt64.max))
        let ok: [String: JSONValue] = ["method": "uniform", "rows": 2, "width": 3, "seed": 1, "prng": "splitmix64", "range": 0.5]
        XCTAssertNoThrow(try InitRecipe(params: ok))
        func with(_ key: String, _ v: JSONValue?) -> [String: JSONValue] { var p = ok; p[key] = v; return p }
        assertMalformed(InitRecipe.self, with("method", "gaussian"), naming: "method")
        assertMalformed(InitRecipe.self, with("method", nil), naming: "method")
        assertMalformed(InitRecipe.self, with("rows", nil), naming: "rows")
        assertMalformed(InitRecipe.self, with("rows", 0), naming: "rows")
        assertMalformed(InitRecipe.self, with("width", -3), naming: "width")
        assertMalformed(InitRecipe.self, with("width", 1.5), naming: "width")
        assertMalformed(InitRecipe.self, with("seed", "7"), naming: "seed")
        assertMalformed(InitRecipe.self, with("prng", "mt19937"), naming: "prng")
        assertMalformed(InitRecipe.self, with("range", "wide"), naming: "range")
        assertMalformed(InitRecipe.self, with("range", 1e300), naming: "range")
        assertMalformed(InitRecipe.self, with("first_k", "all"), naming: "first_k")
        // No recipe can ask for more scalars than a blob holds.
        assertMalformed(InitRecipe.self, with("rows", .int(1 << 20)).merging(["width": .int(1 << 20)]) { $1 }, naming: "rows")
    }

    func testMerge() throws {
        for r: MergeRecipe in [.linear(weights: [0.5, 0.3, 0.2]), .taskArithmetic(weights: [1, 0.5], lambda: 0.8),
                               .ties(density: 0.2, lambda: 1), .dare(drop: 0.9, seed: 3, lambda: 1, ties: true),
                               .slerp(t: 0.3), .magnitudePrune(density: 0.25)] {
            try assertRoundTrip(r)
        }
        assertMalformed(MergeRecipe.self, ["weights": [1]], naming: "method")
        assertMalformed(MergeRecipe.self, ["method": "average"], naming: "method")
        assertMalformed(MergeRecipe.self, ["method": "linear"], naming: "weights")
        assertMalformed(MergeRecipe.self, ["method": "linear", "weights": [1, "x"]], naming: "weights")
        assertMalformed(MergeRecipe.self, ["method": "task-arithmetic", "weights": [1]], naming: "lambda")
        assertMalformed(MergeRecipe.self, ["method": "ties", "lambda": 1], naming: "density")
        let dare: [String: JSONValue] = ["method": "dare", "drop": 0.5, "seed": 1, "lambda": 1, "ties": false, "prng": "splitmix64"]
        XCTAssertEqual(try MergeRecipe(params: dare), .dare(drop: 0.5, seed: 1, lambda: 1, ties: false))
        assertMalformed(MergeRecipe.self, dare.merging(["seed": 0.5]) { $1 }, naming: "seed")
        assertMalformed(MergeRecipe.self, dare.merging(["prng": "xorshift"]) { $1 }, naming: "prng")
        assertMalformed(MergeRecipe.self, dare.merging(["ties": 1]) { $1 }, naming: "ties")
        assertMalformed(MergeRecipe.self, ["method": "slerp"], naming: "t")
        assertMalformed(MergeRecipe.self, ["method": "magnitude-prune", "density": "half"], naming: "density")
    }

    func testSpot() throws {
        let id = try XCTUnwrap(ArtifactID(someID))
        try assertRoundTrip(SpotRecipe(scores: [0.9], weighted: false, space: .prompt, similarTo: id))
        try assertRoundTrip(SpotRecipe(scores: [0.875, 0.3333333], weighted: true, space: .vector, similarTo: id, amongTag: "src"))
        let ok = SpotRecipe(scores: [0.5, 0.25], weighted: true, space: .prompt, similarTo: id).params
        func with(_ key: String, _ v: JSONValue?) -> [String: JSONValue] { var p = ok; p[key] = v; return p }
        assertMalformed(SpotRecipe.self, with("scores", nil), naming: "scores")
        assertMalformed(SpotRecipe.self, with("scores", []), naming: "scores")
        assertMalformed(SpotRecipe.self, with("scores", ["high"]), naming: "scores")
        assertMalformed(SpotRecipe.self, with("by", "tensor"), naming: "by")
        assertMalformed(SpotRecipe.self, with("similar_to", "abc"), naming: "similar_to")
        assertMalformed(SpotRecipe.self, with("similar_to", nil), naming: "similar_to")
        assertMalformed(SpotRecipe.self, with("weighted", "yes"), naming: "weighted")
        assertMalformed(SpotRecipe.self, with("among_tag", 4), naming: "among_tag")
        assertMalformed(SpotRecipe.self, with("method", "spot-t"), naming: "method")
        assertMalformed(SpotRecipe.self, with("top", 3), naming: "top")
    }

    /// `verify` still reports a recipe it cannot read as not recomputable (skipped), naming
    /// the parameter, as it did before recipes were typed.
    func testDerivationReportsUnreadableRecipesAsNotRecomputable() {
        let t = Tensor(shape: [1, 2], scalars: [1, 2])
        XCTAssertThrowsError(try Derivation.compute(Recipe(op: "scale", params: ["by": "two"]),
                                                    parents: [(.operand, t)], backbone: nil)) { e in
            guard case OpsError.notRecomputable(let why) = e else { return XCTFail("\(e)") }
            XCTAssertTrue(why.contains("'by'"), why)
        }
        XCTAssertThrowsError(try Derivation.compute(Recipe(op: "import"), parents: [], backbone: nil)) { e in
            XCTAssertEqual(e as? OpsError, .notRecomputable("op 'import' is not recomputed from its parents"))
        }
        XCTAssertEqual(try Derivation.compute(ScaleRecipe(by: 2), parents: [(.operand, t)], backbone: nil).scalars, [2, 4])
    }

    /// A recorded init that asks for negative or huge sizes (a pulled or edited manifest) is
    /// skipped by `verify`, naming the parameter; it used to reach the generator's precondition.
    func testVerifySkipsAnInitRecipeWithImpossibleSizes() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("pvec-recipes-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let registry = try Registry.create(at: root)
        let b = Backbone(model: "toy", width: 2)
        let t = Tensor(shape: [1, 2], scalars: [0.25, -0.25])
        for (rows, width): (Int64, Int64) in [(-1, 2), (1 << 40, 2)] {
            var p = InitRecipe(method: .uniform, rows: 1, width: 2, seed: 1).params
            p["rows"] = .int(rows)
            p["width"] = .int(width)
            _ = try registry.store(t, kind: .`init`, recipe: Recipe(op: "init", params: p), parents: [], backbone: b,
                                   name: nil, command: "test")
        }
        let report = try registry.verify(nil)
        XCTAssertTrue(report.isClean, "\(report.problems)")
        XCTAssertEqual(report.skipped.count, 2)
        XCTAssertTrue(report.skipped.allSatisfy { $0.message.contains("'rows'") }, "\(report.skipped)")
    }
}
