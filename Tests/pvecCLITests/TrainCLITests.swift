import Foundation
import XCTest

/// `pvec train`, `pvec eval`, `pvec embed` and `verify` of vocab-sample inits, on the real model.
final class TrainCLITests: CLITestCase {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../fixtures/tasks/movie-small").standardized
    var task: String { Self.fixtures.appendingPathComponent("task.json").path }
    var trainData: String { Self.fixtures.appendingPathComponent("train.jsonl").path }
    var testData: String { Self.fixtures.appendingPathComponent("test.jsonl").path }

    func testTrainRecordsInitPromptVectorWithLineageAndEvalIsStored() throws {
        try ok("init")
        let r = try json("train", "--task", task, "--data", trainData, "--name", "mv", "--prompt-len", "4",
                         "--steps", "4", "--batch", "8", "--lr", "1", "--max-length", "48", "--init-seed", "5") as! [String: Any]
        XCTAssertEqual((r["losses"] as! [Double]).count, 4)
        let prompt = r["prompt"] as! [String: Any]
        XCTAssertEqual(prompt["name"] as? String, "mv")
        XCTAssertEqual((r["vector"] as! [String: Any])["name"] as? String, "mv.tau")
        XCTAssertEqual((r["init"] as! [String: Any])["name"] as? String, "mv.init")

        let shown = try json("show", "mv") as! [String: Any]
        let recipe = (shown["manifest"] as! [String: Any])["recipe"] as! [String: Any]
        XCTAssertEqual(recipe["op"] as? String, "train")
        let params = recipe["params"] as! [String: Any]
        XCTAssertEqual(params["task"] as? String, "movie-small")
        XCTAssertEqual((params["data_sha256"] as? String)?.count, 64)
        XCTAssertEqual(params["steps"] as? Int, 4)

        let tree = try ok("lineage", "mv.tau")
        XCTAssertTrue(tree.contains("tuned: mv"), tree)
        XCTAssertTrue(tree.contains("init: mv.init"), tree)

        // verify regenerates the vocab-sample init from its seed with the model.
        let v = try json("verify") as! [String: Any]
        XCTAssertEqual(v["clean"] as? Bool, true, "\(v)")
        XCTAssertEqual((v["skipped"] as! [Any]).count, 0, "vocab-sample init should be recomputed: \(v)")
        XCTAssertGreaterThanOrEqual(v["recomputed"] as! Int, 2)

        let e = try json("eval", "mv", "--task", task, "--data", testData, "--limit", "32", "--max-length", "48") as! [String: Any]
        XCTAssertEqual(e["n"] as? Int, 32)
        let acc = e["accuracy"] as! Double
        XCTAssertTrue((0...1).contains(acc))
        let perClass = e["per_class"] as! [String: [String: Int]]
        XCTAssertEqual(perClass.values.reduce(0) { $0 + $1["gold"]! }, 32)
        let evals = (try json("show", "mv") as! [String: Any])["evaluations"] as! [[String: Any]]
        XCTAssertEqual(evals.count, 1)
        XCTAssertEqual((evals[0]["metrics"] as! [String: Any])["accuracy"] as? Double, acc)

        let zs = try json("eval", "--no-prompt", "--task", task, "--data", testData, "--limit", "32", "--max-length", "48") as! [String: Any]
        XCTAssertEqual(zs["n"] as? Int, 32)
    }

    func testTrainingIsDeterministic() throws {
        try ok("init")
        let args = ["train", "--task", task, "--data", trainData, "--name", "d", "--prompt-len", "3",
                    "--steps", "2", "--batch", "4", "--max-length", "32", "--shots", "6", "--seed", "2"]
        let a = try pvec(args + ["--json"])
        try FileManager.default.removeItem(at: registryDir)
        try ok("init")
        let b = try pvec(args + ["--json"])
        XCTAssertEqual(a.status, 0, a.stderr)
        func ids(_ r: CLIResult) throws -> [String] {
            let o = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any]
            return ["init", "prompt", "vector"].map { (o[$0] as! [String: Any])["id"] as! String }
        }
        XCTAssertEqual(try ids(a), try ids(b))
    }

    func testBadDataRowIsRefusedWithLineNumber() throws {
        try ok("init")
        let bad = try write(Array("{\"text\": \"fine\", \"label\": \"positive\"}\n{\"text\": \"x\", \"label\": \"meh\"}\n".utf8), "bad.jsonl")
        let before = try artifactIDs()
        try refused(["train", "--task", task, "--data", bad, "--name", "x", "--steps", "1"], containing: "bad.jsonl:2:")
        XCTAssertEqual(try artifactIDs(), before)
    }

    func testStartingFromARegistryCombination() throws {
        try ok("init")
        try ok("train", "--task", task, "--data", trainData, "--name", "s1", "--prompt-len", "3", "--steps", "2",
               "--batch", "4", "--max-length", "32", "--init-seed", "1")
        try ok("train", "--task", task, "--data", trainData, "--name", "s2", "--prompt-len", "3", "--steps", "2",
               "--batch", "4", "--max-length", "32", "--init-seed", "1", "--seed", "3")
        try ok("add", "s1", "s2", "--lambda", "0.5", "--onto", "s1.init", "--name", "combo")
        let r = try json("train", "--task", task, "--data", trainData, "--name", "t", "--init", "combo", "--steps", "2",
                         "--batch", "4", "--max-length", "32") as! [String: Any]
        XCTAssertEqual((r["init"] as! [String: Any])["id"] as? String, (try json("show", "combo") as! [String: Any])["id"] as? String)
        let tree = try ok("lineage", "t")
        for needle in ["init: combo", "operand: s1.tau", "operand: s2.tau"] {
            XCTAssertTrue(tree.contains(needle), "missing \(needle) in\n\(tree)")
        }
    }

    func testEmbedMatchesUnitNorm() throws {
        let out = try json("embed", "A cat sat on the mat.", "Café naïve") as! [[String: Any]]
        XCTAssertEqual(out.count, 2)
        let v = out[0]["embedding"] as! [Double]
        XCTAssertEqual(v.count, 384)
        XCTAssertEqual(v.reduce(0) { $0 + $1 * $1 }, 1, accuracy: 1e-4)
        let r = try pvec(["embed", "x", "--model", workDir.appendingPathComponent("nomodel").path], registry: false)
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("fetch-model"), r.stderr)
    }
}
