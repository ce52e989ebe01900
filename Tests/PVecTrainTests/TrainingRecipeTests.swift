import Foundation
import PVecModel
import PVecStore
import XCTest
@testable import PVecTrain

/// The typed training recipes against fixtures/training-recipes, manifests made by the pvec
/// before them (scripts/make_training_recipe_fixture.sh): each decodes and re-encodes to the
/// same bytes, so typed code writes the same ids.
final class TrainingRecipeTests: XCTestCase {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../fixtures/training-recipes").standardized

    /// (file, recorded id) of every fixture manifest.
    func index() throws -> [(file: String, id: String)] {
        let text = try String(contentsOf: Self.fixtures.appendingPathComponent("index.tsv"), encoding: .utf8)
        return text.split(separator: "\n").map { line in
            let f = line.split(separator: "\t", maxSplits: 2).map(String.init)
            return (f[0], f[1])
        }
    }

    func testEveryTrainingManifestRoundTripsThroughItsTypedRecipe() throws {
        let decoder = RecipeDecoder(TrainingRecipes.all)
        var seen = Set<String>()
        let entries = try index()
        XCTAssertGreaterThan(entries.count, 50)
        for (file, id) in entries {
            let bytes = Array(try Data(contentsOf: Self.fixtures.appendingPathComponent(file)))
            var m = try Manifest(json: JSONValue.parse(bytes))
            XCTAssertEqual(m.canonicalBytes, bytes, "\(file) is not canonical")
            XCTAssertEqual(m.id.hex, id, file)
            // init and vector are PVecOps's recipes.
            if ["init", "vector"].contains(m.recipe.op) { continue }
            let typed = try decoder.decode(m.recipe)
            XCTAssertEqual(type(of: typed).op, m.recipe.op)
            m.recipe = typed.recipe
            XCTAssertEqual(String(decoding: m.canonicalBytes, as: UTF8.self), String(decoding: bytes, as: UTF8.self), file)
            XCTAssertEqual(m.id.hex, id, "\(file): the typed recipe changes the id")
            seen.insert(m.recipe.op)
        }
        XCTAssertEqual(seen.sorted(), decoder.ops, "every training op has a fixture manifest")
        XCTAssertEqual(decoder.ops, ["amp", "amp-module", "attempt", "attempt-module", "attempt-target", "compt", "compt-private",
                                     "compt-router", "compt-source", "eval", "meta-init", "train"])
    }

    /// A malformed recipe is refused naming the op and the parameter, never read half-way.
    func testMalformedTrainingRecipesAreRefused() throws {
        let (file, _) = try index().first { $0.file.hasSuffix("-s1.json") }!
        let m = try Manifest(json: JSONValue.parse(Array(try Data(contentsOf: Self.fixtures.appendingPathComponent(file)))))
        XCTAssertNoThrow(try TrainRecipe(m.recipe))
        func refused(_ change: (inout [String: JSONValue]) -> Void, naming key: String) {
            var p = m.recipe.params
            change(&p)
            XCTAssertThrowsError(try TrainRecipe(Recipe(op: "train", params: p))) { e in
                guard case StoreError.malformedRecipe(let op, let reason) = e else { return XCTFail("\(e)") }
                XCTAssertEqual(op, "train")
                XCTAssertTrue(reason.contains(key), reason)
            }
        }
        refused({ $0["steps"] = nil }, naming: "epochs")
        refused({ $0["optimizer"] = "sgd" }, naming: "optimizer")
        refused({ $0["batch"] = "eight" }, naming: "batch")
        refused({ $0["task_sha256"] = nil }, naming: "task_sha256")
        XCTAssertThrowsError(try AttemptRecipe(m.recipe))
        XCTAssertThrowsError(try RecipeDecoder(TrainingRecipes.all).decode(Recipe(op: "merge", params: [:])))
    }

    /// A placement is recorded only when it is not after-cls: the fixtures (made before
    /// placements existed) read as after-cls, and a prepended run says so, in train and eval.
    func testPlacementIsRecordedOnlyWhenItIsNotAfterCLS() throws {
        let file = try index().first { $0.file.hasSuffix("-s1.json") }!.file
        let m = try Manifest(json: JSONValue.parse(Array(try Data(contentsOf: Self.fixtures.appendingPathComponent(file)))))
        XCTAssertNil(m.recipe.params["placement"])
        var r = try TrainRecipe(m.recipe)
        XCTAssertEqual(r.training.placement, .afterCLS)
        r.training.placement = .prepend
        XCTAssertEqual(r.params["placement"], .string("prepend"))
        XCTAssertEqual(try TrainRecipe(params: r.params).training.placement, .prepend)
        XCTAssertEqual(JSONValue.object(try TrainRecipe(params: r.params).params).canonicalString, JSONValue.object(r.params).canonicalString)
        var p = r.params
        p["placement"] = "middle"
        XCTAssertThrowsError(try TrainRecipe(params: p)) { e in
            guard case StoreError.malformedRecipe(_, let reason) = e else { return XCTFail("\(e)") }
            XCTAssertTrue(reason.contains("placement"), reason)
        }
        r.training.placement = .afterCLS
        XCTAssertEqual(JSONValue.object(r.params).canonicalString, JSONValue.object(m.recipe.params).canonicalString,
                       "after-cls writes the old bytes")

        let evalFile = try XCTUnwrap(try index().first { $0.file.contains("-eval-") }?.file)
        let e = try Manifest(json: JSONValue.parse(Array(try Data(contentsOf: Self.fixtures.appendingPathComponent(evalFile)))))
        var typed = try EvalRecipe(e.recipe)
        XCTAssertNil(typed.placement)
        XCTAssertEqual(JSONValue.object(typed.params).canonicalString, JSONValue.object(e.recipe.params).canonicalString)
        typed.placement = .prepend
        XCTAssertEqual(try EvalRecipe(params: typed.params).placement, .prepend)
    }

    /// The typed values say what the recipe recorded.
    func testTypedFieldsReadTheRecordedValues() throws {
        let file = try index().first { $0.file.hasSuffix("-dv.json") }!.file
        let m = try Manifest(json: JSONValue.parse(Array(try Data(contentsOf: Self.fixtures.appendingPathComponent(file)))))
        let r = try TrainRecipe(m.recipe)
        XCTAssertEqual(r.training.length, .epochs(1))
        XCTAssertEqual(r.training.batch, 16)
        XCTAssertEqual(Float(r.training.lr), 0.5)
        XCTAssertEqual(r.training.patience, 1)
        XCTAssertEqual(r.task.task, "movie-small")
        XCTAssertEqual(r.promptLength, 2)
        XCTAssertNotNil(r.devSHA256)
        XCTAssertNil(r.shots)
    }
}
