import Foundation
import PVecTensor
import XCTest

/// `pvec merge` against the numpy reference outputs of fixtures/algebra
/// (scripts/make_merge_fixtures.py), run through the built binary.
final class MergeCLITests: CLITestCase {
    static let fixtures = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()   // pvecCLITests
        .deletingLastPathComponent()   // Tests
        .deletingLastPathComponent()   // repository root
        .appendingPathComponent("fixtures/algebra")

    /// The merge methods of cases.json and the CLI method each maps to.
    static let methods = ["linear": "linear", "taskArithmetic": "task-arithmetic", "ties": "ties",
                          "dare": "dare", "slerp": "slerp", "magnitudePrune": "magnitude-prune"]

    func fixtureDoc() throws -> (inputs: [String: String], cases: [[String: Any]]) {
        let data = try Data(contentsOf: Self.fixtures.appendingPathComponent("cases.json"))
        let doc = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        return (try XCTUnwrap(doc["inputs"] as? [String: String]), try XCTUnwrap(doc["cases"] as? [[String: Any]]))
    }

    func fixture(_ file: String) throws -> Tensor {
        try NPY.decode(Array(try Data(contentsOf: Self.fixtures.appendingPathComponent(file))))
    }

    /// Imports every fixture input as a vector named after it (`small0`, `large1`, …).
    func importFixtureInputs(kind: String = "vector") throws -> [String: String] {
        let (inputs, _) = try fixtureDoc()
        for (name, file) in inputs.sorted(by: { $0.key < $1.key }) {
            try ok("import", Self.fixtures.appendingPathComponent(file).path, "--name", name, "--kind", kind, "--backbone", "toy")
        }
        return inputs
    }

    func exported(_ name: String) throws -> Tensor {
        let path = workDir.appendingPathComponent("\(name)-out.npy").path
        try ok("export", name, "--out", path)
        return try TestData.readNPY(path)
    }

    func number(_ v: Any?) -> String {
        "\((v as! NSNumber).doubleValue)"
    }

    /// The command-line arguments of a fixture case.
    func arguments(_ c: [String: Any], resultName: String) -> [String] {
        let method = Self.methods[c["method"] as! String]!
        let p = c["params"] as! [String: Any]
        var args = ["merge", method] + (c["operands"] as! [String]) + ["--name", resultName]
        if let w = p["weights"] as? [Any] { args += ["--weights", w.map(number).joined(separator: ",")] }
        if p["lambda"] != nil { args.append("--lambda=\(number(p["lambda"]))") }
        if p["density"] != nil { args += ["--density", number(p["density"])] }
        if p["dropRate"] != nil { args += ["--drop", number(p["dropRate"]), "--seed", "\((p["seed"] as! NSNumber).intValue)"] }
        if (p["ties"] as? Bool) == true { args.append("--ties") }
        if p["t"] != nil { args += ["--t", number(p["t"])] }
        return args
    }

    // MARK: - Merges against numpy

    func testEveryMergeMethodMatchesTheNumpyFixtures() throws {
        try ok("init")
        _ = try importFixtureInputs()
        let (_, cases) = try fixtureDoc()
        var seen = Set<String>()
        for c in cases where Self.methods[c["method"] as! String] != nil {
            let name = (c["name"] as! String).replacingOccurrences(of: "_", with: "-")
            let r = try pvec(arguments(c, resultName: name) + ["--json"])
            XCTAssertEqual(r.status, 0, "\(name): \(r.stderr)")
            guard r.status == 0 else { continue }
            let out = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any]
            XCTAssertEqual(out["kind"] as? String, "vector", name)
            XCTAssertEqual(out["op"] as? String, "merge", name)
            let got = try exported(name)
            let want = try fixture(c["expected"] as! String)
            XCTAssertEqual(got.shape, want.shape, name)
            let d = zip(got.scalars, want.scalars).reduce(Float(0)) { max($0, abs($1.0 - $1.1)) }
            if c["exact"] as? Bool == true {
                XCTAssertEqual(got.scalars.map(\.bitPattern), want.scalars.map(\.bitPattern), "\(name): maxdiff \(d)")
            } else {
                XCTAssertLessThanOrEqual(d, 1e-6, "\(name): maxdiff \(d)")
            }
            print("merge \(name): maxdiff \(d)\(c["exact"] as? Bool == true ? " (exact)" : "")")
            seen.insert(c["method"] as! String)
        }
        XCTAssertEqual(seen, Set(Self.methods.keys))
        let v = try json("verify") as! [String: Any]
        XCTAssertEqual(v["clean"] as? Bool, true, "\(v)")
        XCTAssertEqual((v["skipped"] as? [Any])?.count, 0, "\(v)")
        // 13 imports are hash-checked only; every merge is recomputed bit for bit.
        let merges = cases.filter { Self.methods[$0["method"] as! String] != nil }.count
        XCTAssertEqual(v["recomputed"] as? Int, merges)
    }

    func testRecipeRecordsMethodParametersSeedAndOrderedOperands() throws {
        try ok("init")
        _ = try importFixtureInputs()
        try ok("merge", "dare", "large2", "large0", "large1", "--drop", "0.5", "--seed", "42", "--ties",
               "--lambda", "0.8", "--name", "d")
        let shown = try json("show", "d") as! [String: Any]
        let m = shown["manifest"] as! [String: Any]
        let recipe = m["recipe"] as! [String: Any]
        XCTAssertEqual(recipe["op"] as? String, "merge")
        let p = recipe["params"] as! [String: Any]
        XCTAssertEqual(p["method"] as? String, "dare")
        XCTAssertEqual(p["drop"] as? Double, 0.5)
        XCTAssertEqual(p["seed"] as? Int, 42)
        XCTAssertEqual(p["prng"] as? String, "splitmix64")
        XCTAssertEqual(p["ties"] as? Bool, true)
        XCTAssertEqual(p["lambda"] as? Double, 0.8)
        let parents = m["parents"] as! [[String: String]]
        XCTAssertEqual(parents.map { $0["role"]! }, ["operand", "operand", "operand"])
        let ids = try ["large2", "large0", "large1"].map { n in (try json("show", n) as! [String: Any])["id"] as! String }
        XCTAssertEqual(parents.map { $0["id"]! }, ids, "operands in the order given")
        // The same merge in another order is another artifact; the same merge again is the same one.
        let again = try json("merge", "dare", "large2", "large0", "large1", "--drop", "0.5", "--seed", "42", "--ties",
                             "--lambda", "0.8") as! [String: Any]
        XCTAssertEqual(again["id"] as? String, shown["id"] as? String)
        let other = try json("merge", "dare", "large2", "large0", "large1", "--drop", "0.5", "--seed", "43", "--ties",
                             "--lambda", "0.8") as! [String: Any]
        XCTAssertNotEqual(other["id"] as? String, shown["id"] as? String)
    }

    func testLinearAndRawSlerpOfPromptsGivePrompts() throws {
        try ok("init")
        _ = try importFixtureInputs(kind: "prompt")
        let lin = try json("merge", "linear", "large0", "large1", "large2", "--weights", "0.2,0.3,0.5", "--name", "soup") as! [String: Any]
        XCTAssertEqual(lin["kind"] as? String, "prompt")
        let d1 = zip(try exported("soup").scalars, try fixture("out_linear_weighted.npy").scalars).map { abs($0 - $1) }.max()!
        XCTAssertLessThanOrEqual(d1, 1e-6, "linear of prompts: maxdiff \(d1)")
        let before = try artifactIDs()
        // Without --raw, slerp wants task vectors, and these prompts record no init.
        try refused(["merge", "slerp", "small0", "small1", "--t", "0.3"], containing: "no recorded init")
        XCTAssertEqual(try artifactIDs(), before)
        let s = try json("merge", "slerp", "small0", "small1", "--t", "0.3", "--raw", "--name", "mid") as! [String: Any]
        XCTAssertEqual(s["kind"] as? String, "prompt")
        let d2 = zip(try exported("mid").scalars, try fixture("out_slerp.npy").scalars).map { abs($0 - $1) }.max()!
        XCTAssertLessThanOrEqual(d2, 1e-6, "raw slerp of prompts: maxdiff \(d2)")
        print("merge linear (prompts): maxdiff \(d1); slerp --raw (prompts): maxdiff \(d2)")
        let v = try json("verify") as! [String: Any]
        XCTAssertEqual(v["clean"] as? Bool, true)
        XCTAssertEqual(v["recomputed"] as? Int, 2)
    }

    func testPromptsWithARecordedInitStandForTheirTaskVectors() throws {
        try ok("init")
        let i = TestData.tensor(rows: 4, width: 6, seed: 1)
        let a = TestData.tensor(rows: 4, width: 6, seed: 2), b = TestData.tensor(rows: 4, width: 6, seed: 3)
        try ok("import", try write(TestData.npy(i), "i.npy"), "--name", "i", "--kind", "init", "--backbone", "toy")
        try ok("import", try write(TestData.npy(a), "a.npy"), "--name", "a", "--init", "i")
        try ok("import", try write(TestData.npy(b), "b.npy"), "--name", "b", "--init", "i")
        let ta = Tensor(shape: [4, 6], scalars: zip(a.scalars, i.scalars).map { $0 - $1 })
        let tb = Tensor(shape: [4, 6], scalars: zip(b.scalars, i.scalars).map { $0 - $1 })
        try ok("import", try write(TestData.npy(ta), "ta.npy"), "--name", "ta", "--kind", "vector", "--backbone", "toy")
        try ok("import", try write(TestData.npy(tb), "tb.npy"), "--name", "tb", "--kind", "vector", "--backbone", "toy")
        for args in [["ties", "--density", "0.5"], ["dare", "--drop", "0.3", "--seed", "5"], ["slerp", "--t", "0.4"],
                     ["task-arithmetic", "--lambda", "0.5"]] {
            let method = args[0], opts = Array(args.dropFirst())
            let p = try json(["merge", method, "a", "b", "--name", "\(method)-p"] + opts) as! [String: Any]
            try ok(["merge", method, "ta", "tb", "--name", "\(method)-v"] + opts)
            XCTAssertEqual(p["kind"] as? String, "vector")
            XCTAssertEqual(try exported("\(method)-p").scalars.map(\.bitPattern), try exported("\(method)-v").scalars.map(\.bitPattern), method)
        }
        // The prompts' vectors were derived once, stored with lineage, and are the merge's operands.
        let m = (try json("show", "ties-p") as! [String: Any])["manifest"] as! [String: Any]
        for parent in m["parents"] as! [[String: String]] {
            let pm = (try json("show", parent["id"]!) as! [String: Any])["manifest"] as! [String: Any]
            let recipe = pm["recipe"] as! [String: Any]
            XCTAssertEqual(recipe["op"] as? String, "vector")
        }
        let v = try json("verify") as! [String: Any]
        XCTAssertEqual(v["clean"] as? Bool, true)
    }

    func json(_ args: [String], file: StaticString = #filePath, line: UInt = #line) throws -> Any {
        let r = try pvec(args + ["--json"])
        XCTAssertEqual(r.status, 0, "pvec \(args.joined(separator: " ")) failed: \(r.stderr)", file: file, line: line)
        return try JSONSerialization.jsonObject(with: Data(r.stdout.utf8))
    }

    @discardableResult
    func ok(_ args: [String], file: StaticString = #filePath, line: UInt = #line) throws -> String {
        let r = try pvec(args)
        XCTAssertEqual(r.status, 0, "pvec \(args.joined(separator: " ")) failed: \(r.stderr)", file: file, line: line)
        return r.stdout
    }

    // MARK: - Refusals

    /// A usage error: non-zero exit, the "Please" line on stderr, nothing stored.
    func invalid(_ args: [String], _ message: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let before = try artifactIDs()
        let r = try pvec(args)
        XCTAssertNotEqual(r.status, 0, "expected failure of pvec \(args.joined(separator: " "))", file: file, line: line)
        XCTAssertTrue(r.stderr.contains(message), "stderr '\(r.stderr)' lacks '\(message)'", file: file, line: line)
        XCTAssertEqual(try artifactIDs(), before, "a refused merge stored something", file: file, line: line)
    }

    func testRefusalsStoreNothing() throws {
        try ok("init")
        _ = try importFixtureInputs()
        try invalid(["merge", "ties", "small0", "small1", "--density", "1.5"], "density = 1.5 is invalid; expected a fraction in [0, 1]")
        try invalid(["merge", "magnitude-prune", "small0", "--density=-0.1"], "density = -0.1 is invalid")
        try invalid(["merge", "ties", "small0", "small1"], "needs --density D")
        try invalid(["merge", "dare", "small0", "small1", "--drop", "1"], "drop = 1.0 is invalid; expected a probability in [0, 1)")
        try invalid(["merge", "linear", "small0", "small1", "--weights", "1,2,3"], "expected one weight per operand (2)")
        try invalid(["merge", "linear", "small0", "small1", "--weights", "1,-1"], "expected weights with a non-zero sum")
        try invalid(["merge", "linear", "small0", "small1", "--weights", "1,x"], "Please give --weights as comma-separated numbers")
        try invalid(["merge", "ties", "small0", "small1", "--density", "0.2", "--t", "0.5"], "--t applies to slerp, not ties; drop it")
        try invalid(["merge", "slerp", "small0", "small1", "small2", "--t", "0.5"], "operands = 3 is invalid; expected exactly 2")
        try invalid(["merge", "task-arithmetic", "small0"], "needs at least two operands")
        try invalid(["merge", "average", "small0", "small1"], "average")
        try invalid(["merge", "dare", "small0", "small1", "--drop", "0.5", "--seed", "9007199254740992"], "not below 2^53")
        // Checks that need the registry: refused with one line, before anything is stored.
        var before = try artifactIDs()
        try refused(["merge", "ties", "large0", "table", "--density", "0.5"], containing: "shape mismatch")
        try refused(["merge", "linear", "small0", "large0"], containing: "backbone mismatch")
        try refused(["merge", "slerp", "small0", "nosuch", "--t", "0.5"], containing: "nosuch")
        XCTAssertEqual(try artifactIDs(), before)
        // A prompt with a recorded init would have its vector derived and stored: a shape
        // mismatch elsewhere in the list must refuse before that happens.
        let i = TestData.tensor(rows: 10, width: 8, seed: 1), a = TestData.tensor(rows: 10, width: 8, seed: 2)
        try ok("import", try write(TestData.npy(i), "i.npy"), "--name", "i", "--kind", "init", "--backbone", "toy")
        try ok("import", try write(TestData.npy(a), "a.npy"), "--name", "a", "--init", "i")
        before = try artifactIDs()
        try refused(["merge", "task-arithmetic", "a", "table"], containing: "shape mismatch")
        try refused(["merge", "linear", "a", "large0"], containing: "merge prompts with prompts")
        try refused(["merge", "ties", "a", "large0", "--density", "0.3", "--name", "bad@name"], containing: "bad@name")
        XCTAssertEqual(try artifactIDs(), before)
    }

    func testMergeHelp() throws {
        let r = try pvec(["merge", "--help"], registry: false)
        XCTAssertEqual(r.status, 0)
        XCTAssertTrue(r.stdout.hasPrefix("OVERVIEW: Merge task prompt vectors (or prompts) with a recorded recipe.\n"), r.stdout)
        XCTAssertTrue(r.stdout.contains("Example: pvec merge ties mnli qnli sst2 --density 0.2 --name nli-ties"), r.stdout)
        XCTAssertTrue(r.stdout.contains("task vectors; --raw: as stored"), r.stdout)
    }
}
