import Foundation
import XCTest

/// `pvec demo` end to end on the real model, with tiny settings over a data folder made of the
/// small fixture task: every step runs and the comparison ends with the fitted composition.
final class DemoCLITests: CLITestCase {
    func testDemoRunsEveryStepAndComparesTheFittedComposition() throws {
        let data = workDir.appendingPathComponent("data")
        try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
        for name in ["alpha", "gamma"] {
            try FileManager.default.createSymbolicLink(at: data.appendingPathComponent(name), withDestinationURL: TrainCLITests.fixtures)
        }
        // beta: the same task with its training rows reversed, so its prompt (and vector) differ from alpha's.
        let beta = data.appendingPathComponent("beta")
        try FileManager.default.createDirectory(at: beta, withIntermediateDirectories: true)
        for file in ["task.json", "test.jsonl"] {
            try FileManager.default.copyItem(at: TrainCLITests.fixtures.appendingPathComponent(file), to: beta.appendingPathComponent(file))
        }
        let lines = try String(contentsOf: TrainCLITests.fixtures.appendingPathComponent("train.jsonl"), encoding: .utf8)
            .split(separator: "\n").reversed().joined(separator: "\n") + "\n"
        try lines.write(to: beta.appendingPathComponent("train.jsonl"), atomically: true, encoding: .utf8)
        let reg = workDir.appendingPathComponent("demo-reg").path
        let r = try pvec(["demo", "--data-dir", data.path, "--sources", "alpha,beta", "--target", "gamma", "--prompt-len", "2",
                          "--source-shots", "4", "--source-steps", "2", "--target-shots", "4", "--target-steps", "2",
                          "--eval-limit", "8", "--registry", reg, "--json"], registry: false)
        XCTAssertEqual(r.status, 0, r.stderr)
        let out = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let rows = try XCTUnwrap(out["rows"] as? [[String: Any]])
        XCTAssertEqual(rows.map { $0["artifact"] as? String },
                       ["-", "alpha", "beta", "sources-sum", "gamma-random", "gamma-from-sum", "gamma-composed"])
        XCTAssertTrue((rows.last?["method"] as? String)?.contains("fitted") ?? false, "\(rows)")
        for row in rows { XCTAssertTrue((0...1).contains(row["accuracy"] as? Double ?? -1), "\(row)") }
        XCTAssertTrue(r.stderr.contains("5. fitted coefficients"), r.stderr)
        // The composition is in the demo's registry, recomputable, with both sources in its lineage.
        let tree = try pvec(["lineage", "gamma-composed", "--registry", reg], registry: false)
        XCTAssertEqual(tree.status, 0, tree.stderr)
        for needle in ["operand: alpha.tau", "operand: beta.tau", "init: alpha.init"] {
            XCTAssertTrue(tree.stdout.contains(needle), "missing \(needle) in\n\(tree.stdout)")
        }
        let v = try pvec(["verify", "gamma-composed", "--registry", reg, "--json"], registry: false)
        XCTAssertEqual(v.status, 0, v.stderr)
        XCTAssertTrue(v.stdout.contains("\"clean\":true") || v.stdout.contains("\"clean\": true"), v.stdout)
    }
}
