import Foundation
import XCTest

/// Issue 11, item 6 (`--placement prepend|after-cls`: recorded in the recipe, used by eval,
/// written to an exported adapter's weights metadata, a warning when an after-cls prompt is
/// exported for PEFT) and the mixtures' part of item 1 (a prompt composed from PEFT adapters
/// carries their config), on the movie-small fixture with tiny settings.
final class PlacementCLITests: CLITestCase {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../fixtures/tasks/movie-small").standardized
    var task: String { Self.fixtures.appendingPathComponent("task.json").path }
    var trainData: String { Self.fixtures.appendingPathComponent("train.jsonl").path }
    var testData: String { Self.fixtures.appendingPathComponent("test.jsonl").path }
    let tiny = ["--steps", "2", "--batch", "4", "--max-length", "24", "--prompt-len", "3"]

    func train(_ name: String, seed: String = "1", _ extra: [String] = []) throws {
        let r = try pvec(["train", "--task", task, "--data", trainData, "--name", name, "--init-seed", seed] + tiny + extra)
        XCTAssertEqual(r.status, 0, r.stderr)
    }

    func succeed(_ args: [String], file: StaticString = #filePath, line: UInt = #line) throws {
        let r = try pvec(args)
        XCTAssertEqual(r.status, 0, "pvec \(args.joined(separator: " ")) failed: \(r.stderr)", file: file, line: line)
    }

    func recipeParams(_ name: String) throws -> [String: Any] {
        let m = (try json("show", name) as! [String: Any])["manifest"] as! [String: Any]
        return (m["recipe"] as! [String: Any])["params"] as! [String: Any]
    }

    /// The `__metadata__` of an adapter directory's weights file.
    func weightsMetadata(_ dir: String) throws -> [String: String] {
        let bytes = try Data(contentsOf: URL(fileURLWithPath: dir).appendingPathComponent("adapter_model.safetensors"))
        let n = bytes.prefix(8).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        let header = try JSONSerialization.jsonObject(with: bytes.subdata(in: 8..<(8 + n))) as! [String: Any]
        return header["__metadata__"] as! [String: String]
    }

    func adapterConfig(_ dir: String) throws -> [String: Any] {
        let data = try Data(contentsOf: URL(fileURLWithPath: dir).appendingPathComponent("adapter_config.json"))
        return try JSONSerialization.jsonObject(with: data) as! [String: Any]
    }

    // MARK: - Placement

    /// New prompts are prepended and say so; `--placement after-cls` records nothing, so its
    /// recipe is the one pvec always wrote (and the two runs are different prompts).
    func testTrainRecordsPrependAndAfterCLSKeepsTheOldRecipe() throws {
        try ok("init")
        try train("p")
        try train("a", ["--placement", "after-cls"])
        try train("p2", ["--placement", "prepend"])
        XCTAssertEqual(try recipeParams("p")["placement"] as? String, "prepend")
        XCTAssertNil(try recipeParams("a")["placement"], "after-cls is what a recipe without a placement means")
        let id = { (n: String) in (try self.json("show", n) as! [String: Any])["id"] as! String }
        XCTAssertEqual(try id("p"), try id("p2"), "prepend is the default")
        XCTAssertEqual(try id("p.init"), try id("a.init"), "same seeded init")
        XCTAssertNotEqual(try id("p"), try id("a"), "the placement changes the training")

        let bad = try pvec(["train", "--task", task, "--data", trainData, "--name", "x", "--placement", "middle"] + tiny)
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertTrue(bad.stderr.contains("placement"), bad.stderr)
    }

    /// eval runs a prompt where it was trained to go and records that; --placement overrides,
    /// and the evaluations differ (the placement reaches the model).
    func testEvalUsesTheTrainedPlacementAndRecordsIt() throws {
        try ok("init")
        try train("p")
        try train("a", ["--placement", "after-cls"])
        func evalRecipe(_ args: String...) throws -> (params: [String: Any], accuracy: Double, id: String) {
            let e = try pvec(["eval"] + args + ["--task", task, "--data", testData, "--limit", "16", "--max-length", "24", "--json"])
            XCTAssertEqual(e.status, 0, e.stderr)
            let out = try JSONSerialization.jsonObject(with: Data(e.stdout.utf8)) as! [String: Any]
            let id = out["id"] as! String
            let m = (try json("show", id) as! [String: Any])["manifest"] as! [String: Any]
            return ((m["recipe"] as! [String: Any])["params"] as! [String: Any], out["accuracy"] as! Double, id)
        }
        XCTAssertEqual(try evalRecipe("p").params["placement"] as? String, "prepend")
        XCTAssertNil(try evalRecipe("a").params["placement"])
        let asTrained = try evalRecipe("a")
        let moved = try evalRecipe("a", "--placement", "prepend")
        XCTAssertEqual(moved.params["placement"] as? String, "prepend")
        XCTAssertNotEqual(moved.id, asTrained.id)
        XCTAssertNil(try evalRecipe("--no-prompt").params["placement"], "no prompt, no placement")
    }

    /// A PEFT export records the training placement in the weights metadata (PEFT ignores it);
    /// an after-cls prompt gets one warning line on stderr, a prepended one none.
    func testPEFTExportRecordsPlacementAndWarnsForAfterCLS() throws {
        try ok("init")
        try train("p")
        try train("a", ["--placement", "after-cls"])
        let pOut = workDir.appendingPathComponent("p-adapter").path
        let aOut = workDir.appendingPathComponent("a-adapter").path
        let rp = try pvec(["export", "p", "--out", pOut, "--format", "peft"])
        XCTAssertEqual(rp.status, 0, rp.stderr)
        XCTAssertEqual(rp.stderr, "")
        XCTAssertEqual(try weightsMetadata(pOut), ["format": "pt", "pvec_placement": "prepend"])
        let ra = try pvec(["export", "a", "--out", aOut, "--format", "peft"])
        XCTAssertEqual(ra.status, 0, ra.stderr)
        let warning = ra.stderr.split(separator: "\n")
        XCTAssertEqual(warning.count, 1, ra.stderr)
        XCTAssertTrue(ra.stderr.contains("after [CLS]") && ra.stderr.contains("--placement prepend"), ra.stderr)
        XCTAssertEqual(try weightsMetadata(aOut), ["format": "pt", "pvec_placement": "after-cls"])
        // Other formats say nothing about placement.
        let st = try pvec(["export", "a", "--out", workDir.appendingPathComponent("a.safetensors").path])
        XCTAssertEqual(st.status, 0, st.stderr)
        XCTAssertEqual(st.stderr, "")
        // A prompt derived from the after-cls one (add --onto) was trained after-cls too.
        try ok("add", "a.tau", "--onto", "a.init", "--name", "a2")
        let r2 = try pvec(["export", "a2", "--out", workDir.appendingPathComponent("a2-adapter").path, "--format", "peft"])
        XCTAssertEqual(r2.status, 0, r2.stderr)
        XCTAssertTrue(r2.stderr.contains("after [CLS]"), r2.stderr)
    }

    // MARK: - Item 1: composed prompts carry their parents' PEFT config

    /// ATTEMPT and AMP targets made from PEFT adapters carry the adapters' config (and export
    /// as such adapters); made from plain prompts they record no config at all.
    func testMixturesOfPEFTAdaptersCarryTheirConfig() throws {
        try ok("init")
        try train("s1", seed: "1")
        try train("s2", seed: "2")
        // PEFT adapters of the same prompts, with a config field pvec does not write itself.
        for n in ["s1", "s2"] {
            let dir = workDir.appendingPathComponent("\(n)-adapter")
            try ok("export", n, "--out", dir.path, "--format", "peft")
            var config = try adapterConfig(dir.path)
            config["revision"] = "placement-test"
            try JSONSerialization.data(withJSONObject: config, options: [.sortedKeys])
                .write(to: dir.appendingPathComponent("adapter_config.json"))
            try ok("import", dir.path, "--name", "peft-\(n)")
        }
        let mix = ["--task", task, "--data", trainData, "--steps", "2", "--batch", "4", "--max-length", "24"]
        try succeed(["attempt", "--sources", "peft-s1,peft-s2", "--name", "at", "--rank", "2"] + mix)
        try succeed(["attempt", "--sources", "s1,s2", "--name", "plain", "--rank", "2"] + mix)
        // AMP trains two tasks together: the fixture's data again under another task name.
        let second = workDir.appendingPathComponent("movie-b")
        try FileManager.default.createDirectory(at: second, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: Self.fixtures.appendingPathComponent("train.jsonl"), to: second.appendingPathComponent("train.jsonl"))
        try String(contentsOf: Self.fixtures.appendingPathComponent("task.json"), encoding: .utf8)
            .replacingOccurrences(of: "\"movie-small\"", with: "\"movie-b\"")
            .write(to: second.appendingPathComponent("task.json"), atomically: true, encoding: .utf8)
        try succeed(["amp", "--tasks", "\(Self.fixtures.path),\(second.path)", "--sources", "peft-s1,peft-s2", "--name", "am",
                     "--key-width", "4", "--steps", "2", "--batch", "4", "--max-length", "24"])

        let carried = try recipeParams("at.target")["peft_config"] as? [String: Any]
        XCTAssertEqual(carried?["revision"] as? String, "placement-test")
        XCTAssertEqual(carried?["task_type"] as? String, "FEATURE_EXTRACTION")
        XCTAssertEqual((try recipeParams("am.movie-small")["peft_config"] as? [String: Any])?["revision"] as? String, "placement-test")
        XCTAssertNil(try recipeParams("plain.target")["peft_config"], "no parent from PEFT, nothing carried")
        XCTAssertNil(try recipeParams("plain.target")["dtype"])

        let out = workDir.appendingPathComponent("at-adapter").path
        try ok("export", "at.target", "--out", out, "--format", "peft")
        let exported = try adapterConfig(out)
        XCTAssertEqual(exported["revision"] as? String, "placement-test")
        XCTAssertEqual(exported["num_virtual_tokens"] as? Int, 3)
    }

    /// Parents from different kinds of adapter cannot be composed: refused, naming the field.
    func testMixtureOfDisagreeingAdaptersIsRefused() throws {
        try ok("init")
        try train("s1", seed: "1")
        for (n, rev) in [("s1", "one"), ("s1b", "two")] {
            let dir = workDir.appendingPathComponent("\(n)-adapter")
            try ok("export", "s1", "--out", dir.path, "--format", "peft")
            var config = try adapterConfig(dir.path)
            config["revision"] = rev
            try JSONSerialization.data(withJSONObject: config, options: [.sortedKeys])
                .write(to: dir.appendingPathComponent("adapter_config.json"))
            try ok("import", dir.path, "--name", "peft-\(n)")
        }
        let before = try artifactIDs()
        try refused(["attempt", "--sources", "peft-s1,peft-s1b", "--name", "at", "--rank", "2", "--task", task,
                     "--data", trainData, "--steps", "1", "--batch", "4", "--max-length", "24"], containing: "revision")
        XCTAssertEqual(try artifactIDs(), before, "refused before anything is stored")
    }
}
