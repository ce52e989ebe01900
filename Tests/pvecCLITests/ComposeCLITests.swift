import Foundation
import XCTest

/// `pvec compose` on the real model: fitted weights over registry task vectors, stored as a
/// recipe that `verify` recomputes, with every source in the lineage; the search method, per-row
/// weights, `--then-steps`, and refusals that leave the registry as it was.
final class ComposeCLITests: CLITestCase {
    var task: String { TrainCLITests.fixtures.appendingPathComponent("task.json").path }
    var trainData: String { TrainCLITests.fixtures.appendingPathComponent("train.jsonl").path }
    let small = ["--max-length", "32", "--batch", "4"]

    /// Two sources tuned from different inits, each with its vector `sK.tau`.
    func trainSources() throws {
        try ok("init")
        for (name, seed) in [("s1", "1"), ("s2", "2")] {
            try ok(["train", "--task", task, "--data", trainData, "--name", name, "--prompt-len", "3", "--steps", "3",
                    "--lr", "1", "--init-seed", seed, "--seed", seed] + small)
        }
    }

    func ok(_ args: [String], file: StaticString = #filePath, line: UInt = #line) throws {
        let r = try pvec(args)
        XCTAssertEqual(r.status, 0, "pvec \(args.joined(separator: " ")): \(r.stderr)", file: file, line: line)
    }

    func compose(_ extra: [String]) throws -> [String: Any] {
        let r = try pvec(["compose", "--task", task, "--data", trainData, "--shots", "4", "--steps", "3"] + small + extra + ["--json"])
        XCTAssertEqual(r.status, 0, r.stderr)
        return try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
    }

    func exported(_ name: String) throws -> [Float] {
        let path = workDir.appendingPathComponent("\(name).npy").path
        _ = try ok("export", name, "--out", path, "--format", "npy", "--allow-vector")
        return try TestData.readNPY(path).scalars
    }

    func testComposeFitsWeightsThatVerifyRecomputesAndLineageNamesEverySource() throws {
        try trainSources()
        let r = try compose(["s1", "s2", "--name", "c", "--init-seed", "9"])
        let weights = try XCTUnwrap(r["weights"] as? [Double])
        XCTAssertEqual(weights.count, 2)
        XCTAssertNotEqual(weights, [0.5, 0.5], "three gradient steps should move the weights from 1/n")
        XCTAssertEqual((r["composed"] as? [String: Any])?["name"] as? String, "c")
        XCTAssertEqual((r["init"] as? [String: Any])?["name"] as? String, "c.init")
        XCTAssertEqual((r["losses"] as? [Double])?.count, 3)

        // The stored prompt is init + w1·τ1 + w2·τ2, checked from the exported tensors.
        let (p, i, t1, t2) = (try exported("c"), try exported("c.init"), try exported("s1.tau"), try exported("s2.tau"))
        XCTAssertEqual(p.count, 3 * 384)
        for j in p.indices {
            let want = Double(i[j]) + weights[0] * Double(t1[j]) + weights[1] * Double(t2[j])
            XCTAssertEqual(Double(p[j]), want, accuracy: 1e-5)
        }
        let shown = try json("show", "c") as! [String: Any]
        let recipe = (shown["manifest"] as! [String: Any])["recipe"] as! [String: Any]
        XCTAssertEqual(recipe["op"] as? String, "compose")
        let params = recipe["params"] as! [String: Any]
        XCTAssertEqual(params["weights"] as? [Double], weights)
        let fit = params["fit"] as! [String: Any]
        XCTAssertEqual(fit["method"] as? String, "gradient")
        XCTAssertEqual(fit["shots"] as? Int, 4)
        XCTAssertEqual(fit["examples"] as? Int, 8)

        let tree = try ok("lineage", "c")
        for needle in ["init: c.init", "operand: s1.tau", "operand: s2.tau", "tuned: s1", "tuned: s2"] {
            XCTAssertTrue(tree.contains(needle), "missing \(needle) in\n\(tree)")
        }
        // verify recomputes the composition (and the seeded inits) from the recorded weights.
        let before = try json("verify") as! [String: Any]
        XCTAssertEqual(before["clean"] as? Bool, true, "\(before)")
        XCTAssertEqual((before["skipped"] as! [Any]).count, 0, "\(before)")
        let v = try json("verify", "c") as! [String: Any]
        XCTAssertEqual(v["clean"] as? Bool, true, "\(v)")
        XCTAssertGreaterThanOrEqual(v["recomputed"] as! Int, 4, "c, c.init, s1.tau and s2.tau at least: \(v)")
    }

    func testSearchPerRowNeverEndsAboveItsStartAndIsDeterministic() throws {
        try trainSources()
        let a = try compose(["s1", "s2", "--name", "a", "--method", "search", "--per-row", "--steps", "6", "--sigma", "0.3"])
        XCTAssertEqual((a["weights"] as? [Double])?.count, 6, "2 vectors × 3 rows")
        let start = try XCTUnwrap(a["loss_start"] as? Double), end = try XCTUnwrap(a["loss_end"] as? Double)
        XCTAssertLessThanOrEqual(end, start)
        let b = try compose(["s1", "s2", "--name", "b", "--method", "search", "--per-row", "--steps", "6", "--sigma", "0.3"])
        XCTAssertEqual(a["weights"] as? [Double], b["weights"] as? [Double])
        XCTAssertEqual((a["composed"] as? [String: Any])?["id"] as? String, (b["composed"] as? [String: Any])?["id"] as? String,
                       "one seed, one artifact")
        let v = try json("verify", "a") as! [String: Any]
        XCTAssertEqual(v["clean"] as? Bool, true, "\(v)")
    }

    func testThenStepsTunesFromTheComposition() throws {
        try trainSources()
        let r = try compose(["s1", "s2", "--name", "t", "--init", "s1.init", "--then-steps", "2"])
        XCTAssertEqual((r["composed"] as? [String: Any])?["name"] as? String, "t.composed")
        XCTAssertEqual((r["prompt"] as? [String: Any])?["name"] as? String, "t")
        XCTAssertEqual((r["vector"] as? [String: Any])?["name"] as? String, "t.tau")
        let tree = try ok("lineage", "t")
        for needle in ["init: t.composed", "init: s1.init", "operand: s2.tau"] {
            XCTAssertTrue(tree.contains(needle), "missing \(needle) in\n\(tree)")
        }
        let shown = try json("show", "t") as! [String: Any]
        let recipe = (shown["manifest"] as! [String: Any])["recipe"] as! [String: Any]
        XCTAssertEqual(recipe["op"] as? String, "train")
        XCTAssertEqual((recipe["params"] as? [String: Any])?["steps"] as? Int, 2)
        // No seeded init was stored: --init named one.
        XCTAssertNotEqual(try pvec(["show", "t.init"]).status, 0)
    }

    func testRefusalsLeaveTheRegistryAsItWas() throws {
        try trainSources()
        try ok(["train", "--task", task, "--data", trainData, "--name", "wide", "--prompt-len", "5", "--steps", "1"] + small)
        let raw = try write(TestData.npy(TestData.tensor(rows: 3, width: 384, seed: 4)), "raw.npy")
        try ok(["import", raw, "--name", "raw"])
        let before = try artifactIDs()
        let base = ["compose", "--task", task, "--data", trainData, "--shots", "4", "--steps", "1", "--name", "x"] + small
        try refused(base + ["s1", "nope"], containing: "nope")
        try refused(base + ["s1", "wide"], containing: "shape")
        try refused(base + ["s1", "raw"], containing: "init")
        try refused(base + ["s1", "s1"], containing: "twice")
        try refused(base + ["s1", "--init", "wide"], containing: "shape")
        try refused(base + ["s1", "--shots", "100"], containing: "shots")
        try refused(base + ["s1", "--steps", "0"], containing: "--steps")
        try refused(base + ["s1", "--method", "annealing"], containing: "method")
        XCTAssertEqual(try artifactIDs(), before)
    }
}
