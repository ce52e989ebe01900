import Foundation
import PVecStore
import PVecTensor
import XCTest
@testable import PVecOps

/// Recipes recompute to the stored bits, and refused operations store nothing.
final class DerivationTests: XCTestCase {
    var root: URL!
    var registry: Registry!

    override func setUpWithError() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("pvec-ops-\(UUID().uuidString)")
        registry = try Registry.create(at: root)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: root) }

    func tensor(_ seed: UInt64, rows: Int = 3, width: Int = 5) -> Tensor {
        var g = SplitMix64(seed: seed)
        return Tensor(shape: [rows, width], scalars: (0..<(rows * width)).map { _ in g.nextFloat01() - 0.5 })
    }

    func testInitRecipeRoundTripsThroughParams() throws {
        let r = InitRecipe(method: .uniform, rows: 2, width: 7, seed: 99, range: 0.25)
        XCTAssertEqual(try InitRecipe(params: r.params), r)
        let v = InitRecipe(method: .vocabSample, rows: 4, width: 8, seed: 3, firstK: 50)
        XCTAssertEqual(try InitRecipe(params: v.params), v)
        XCTAssertThrowsError(try InitRecipe(params: ["method": "gaussian", "rows": 1, "width": 1, "seed": 0]))
    }

    func testVocabSampleNeedsTheTableAndUsesIt() throws {
        let table = tensor(5, rows: 20, width: 8)
        let r = InitRecipe(method: .vocabSample, rows: 4, width: 8, seed: 3, firstK: 10)
        let b = Backbone(model: "toy", width: 8)
        XCTAssertThrowsError(try r.generate(backbone: b, embeddingTable: nil))
        let t = try r.generate(backbone: b, embeddingTable: { _ in table })
        // Every row is one of the first 10 table rows, and rows are distinct.
        var seen = Set<Int>()
        for i in 0..<4 {
            let row = Array(t.scalars[(i * 8)..<((i + 1) * 8)])
            let match = (0..<10).first { Array(table.scalars[($0 * 8)..<(($0 + 1) * 8)]) == row }
            XCTAssertNotNil(match)
            seen.insert(match!)
        }
        XCTAssertEqual(seen.count, 4)
    }

    func testDerivedArtifactsVerifyAndTamperingIsCaught() throws {
        let b = Backbone(model: "toy", width: 5)
        let ini = try registry.store(tensor(1), kind: .`init`, recipe: Recipe(op: "import"), parents: [], backbone: b,
                                     name: "i", command: "test")
        _ = try registry.store(tensor(2), kind: .prompt, recipe: Recipe(op: "import"), parents: [Parent(.`init`, ini.id)],
                               backbone: b, name: "a", command: "test")
        _ = try registry.store(tensor(3), kind: .prompt, recipe: Recipe(op: "import"), parents: [Parent(.`init`, ini.id)],
                               backbone: b, name: "b", command: "test")
        let sum = try registry.addVectors(["a", "b"], lambda: 0.25, onto: "i", name: "s", command: "test")
        let report = try registry.verify(nil)
        XCTAssertTrue(report.isClean, "\(report.problems)")
        XCTAssertEqual(report.recomputed, 3)  // a.tau, b.tau, s

        // A manifest that claims a recipe its blob does not satisfy is reported.
        var forged = sum.manifest
        forged.recipe = Recipe(op: "add", params: ["lambda": .double(0.5)])
        let forgedID = try registry.writeManifest(forged)
        let bad = try registry.verify(forgedID.hex)
        XCTAssertEqual(bad.problems.count, 1)
        XCTAssertTrue(bad.problems[0].message.contains("does not match its recipe"), bad.problems[0].message)
    }
}
