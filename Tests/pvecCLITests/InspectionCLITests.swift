import Foundation
import PVecTensor
import XCTest

/// show, ls, lineage, log, tag, gc and help, through the CLI.
final class InspectionCLITests: CLITestCase {
    override func setUpWithError() throws {
        try super.setUpWithError()
        try makeToyRegistry(prompts: ["a", "b"])
    }

    func testLineageReachesTheRootsAsTreeDotAndJSON() throws {
        try ok("add", "a", "b", "--lambda", "0.5", "--name", "ab")
        try ok("scale", "ab", "--by", "2", "--name", "ab2")
        let tree = try ok("lineage", "ab2")
        XCTAssertTrue(tree.hasPrefix("ab2 "), tree)
        for needle in ["operand: ab", "tuned: a", "tuned: b", "init: i", "scale", "add"] {
            XCTAssertTrue(tree.contains(needle), "lineage tree lacks '\(needle)':\n\(tree)")
        }
        let g = try json("lineage", "ab2") as! [String: Any]
        let nodes = g["nodes"] as! [[String: Any]]
        // ab2, ab, tau-a, tau-b, a, b, i
        XCTAssertEqual(nodes.count, 7)
        let edges = g["edges"] as! [[String: Any]]
        // scale→ab; add→tau-a, tau-b; tau-a→a, i; tau-b→b, i; a→i; b→i (imported with --init)
        XCTAssertEqual(edges.count, 9)
        let dot = try ok("lineage", "ab2", "--dot")
        XCTAssertTrue(dot.hasPrefix("digraph lineage {"))
        XCTAssertEqual(dot.components(separatedBy: " -> ").count - 1, 9)
    }

    func testNamesKeepHistory() throws {
        try ok("add", "a", "--name", "x")
        try ok("add", "b", "--name", "x")
        let v1 = try json("show", "x@1") as! [String: Any]
        let v2 = try json("show", "x@2") as! [String: Any]
        let latest = try json("show", "x") as! [String: Any]
        XCTAssertNotEqual(v1["id"] as! String, v2["id"] as! String)
        XCTAssertEqual(latest["id"] as! String, v2["id"] as! String)
        try refused(["show", "x@3"], containing: "x@3")
        let log = try json("log") as! [[String: Any]]
        let xs = log.filter { ($0["name"] as? String) == "x" }
        XCTAssertEqual(xs.count, 2)
        XCTAssertTrue((xs.first!["command"] as! String).contains("pvec add"))
    }

    func testLsFiltersByKindBackboneAndTag() throws {
        try ok("tag", "a", "stable")
        let prompts = try json("ls", "--kind", "prompt") as! [[String: Any]]
        XCTAssertEqual(Set(prompts.flatMap { $0["names"] as! [String] }), ["a", "b"])
        let tagged = try json("ls", "--tag", "stable") as! [[String: Any]]
        XCTAssertEqual(tagged.count, 1)
        XCTAssertEqual(tagged[0]["names"] as! [String], ["a"])
        let toy = try json("ls", "--backbone", "toy") as! [[String: Any]]
        XCTAssertEqual(toy.count, 3)
        XCTAssertEqual((try json("ls", "--backbone", "other") as! [[String: Any]]).count, 0)
        let shown = try json("show", "a") as! [String: Any]
        XCTAssertEqual(shown["tags"] as! [String], ["stable"])
        let text = try ok("ls")
        XCTAssertTrue(text.hasPrefix("ID"), text)
    }

    func testGCRemovesOnlyUnreachable() throws {
        // An unnamed sum is garbage; a named one and everything it reaches is not.
        let loose = try json("add", "a", "b", "--lambda", "3") as! [String: Any]
        try ok("add", "a", "b", "--lambda", "2", "--name", "kept")
        let dry = try json("gc", "--dry-run") as! [String: Any]
        XCTAssertEqual(dry["artifacts"] as! [String], [loose["id"] as! String])
        XCTAssertNoThrow(try ok("show", loose["id"] as! String), "dry run must not delete")
        let done = try json("gc") as! [String: Any]
        XCTAssertEqual(done["artifacts"] as! [String], [loose["id"] as! String])
        try refused(["show", loose["id"] as! String], containing: "no name")
        let v = try json("verify") as! [String: Any]
        XCTAssertEqual(v["clean"] as? Bool, true)
        XCTAssertNoThrow(try ok("lineage", "kept"))
    }

    func testHelpTeachesUsage() throws {
        let r = try pvec(["scale", "--help"], registry: false)
        XCTAssertEqual(r.status, 0)
        XCTAssertTrue(r.stdout.hasPrefix("OVERVIEW: Scale a task prompt vector by a factor.\n"), r.stdout)
        XCTAssertTrue(r.stdout.contains("USAGE: pvec scale [--registry <path>] [--json] <a> --by <by> [--name <name>]"), r.stdout)
        XCTAssertTrue(r.stdout.contains("Example: pvec scale mnli --by 0.5 --name half-mnli"), r.stdout)
        let v = try pvec(["cos", "a"], registry: false)
        XCTAssertNotEqual(v.status, 0)
        XCTAssertTrue(v.stderr.contains("Please name exactly two artifacts, or pass --matrix."), v.stderr)
    }
}
