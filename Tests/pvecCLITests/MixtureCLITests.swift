import Foundation
import PVecTensor
import XCTest

/// `pvec attempt`, `attention`, `eval` of a mixture, `amp`, `compt` and `meta-init` on the
/// movie-small fixture with tiny settings: stored artifacts, kinds and lineage; refusals store nothing.
final class MixtureCLITests: CLITestCase {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../fixtures/tasks/movie-small").standardized
    var task: String { Self.fixtures.appendingPathComponent("task.json").path }
    var trainData: String { Self.fixtures.appendingPathComponent("train.jsonl").path }
    var testData: String { Self.fixtures.appendingPathComponent("test.jsonl").path }
    let tiny = ["--steps", "2", "--batch", "4", "--max-length", "24"]

    /// A second task directory: the fixture's data under another task name.
    func secondTask(named name: String = "movie-b") throws -> String {
        let dir = workDir.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: Self.fixtures.appendingPathComponent("train.jsonl"), to: dir.appendingPathComponent("train.jsonl"))
        let spec = try String(contentsOf: Self.fixtures.appendingPathComponent("task.json"), encoding: .utf8)
            .replacingOccurrences(of: "\"movie-small\"", with: "\"\(name)\"")
        try spec.write(to: dir.appendingPathComponent("task.json"), atomically: true, encoding: .utf8)
        return dir.path
    }

    func sources() throws {
        try ok("init")
        for (n, seed) in [("s1", "1"), ("s2", "2")] {
            try ok(["train", "--task", task, "--data", trainData, "--name", n, "--prompt-len", "3", "--init-seed", seed] + tiny)
        }
    }

    func ok(_ args: [String], file: StaticString = #filePath, line: UInt = #line) throws {
        let r = try pvec(args)
        XCTAssertEqual(r.status, 0, "pvec \(args.joined(separator: " ")) failed: \(r.stderr)", file: file, line: line)
    }

    func manifest(_ name: String) throws -> [String: Any] {
        (try json("show", name) as! [String: Any])["manifest"] as! [String: Any]
    }

    func parents(_ name: String) throws -> [(String, String)] {
        (try manifest(name)["parents"] as! [[String: String]]).map { ($0["role"]!, $0["id"]!) }
    }

    func id(_ name: String) throws -> String { (try json("show", name) as! [String: Any])["id"] as! String }

    func testAttemptStoresMixtureModuleTargetAndEvalRunsIt() throws {
        try sources()
        let r = try pvec(["attempt", "--task", task, "--data", trainData, "--sources", "s1,s2", "--name", "at", "--rank", "4", "--json"] + tiny)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(try manifest("at")["kind"] as? String, "mixture")
        XCTAssertEqual(try manifest("at.module")["kind"] as? String, "module")
        XCTAssertEqual(try manifest("at.target")["kind"] as? String, "prompt")
        let s1 = try id("s1"), s2 = try id("s2")
        let p = try parents("at")
        XCTAssertEqual(p.map(\.0), ["tuned", "module", "source", "source"])
        XCTAssertEqual(p.map(\.1), [try id("at.target"), try id("at.module"), s1, s2])
        XCTAssertEqual(try parents("at.module").filter { $0.0 == "source" }.map(\.1), [s1, s2])
        let recipe = try manifest("at.module")["recipe"] as! [String: Any]
        XCTAssertEqual((recipe["params"] as! [String: Any])["sources"] as? [String], [s1, s2])
        // The target's rate is in embedding-RMS units: the recipe records the unit.
        let targetParams = (try manifest("at.target")["recipe"] as! [String: Any])["params"] as! [String: Any]
        XCTAssertEqual(targetParams["lr_scale"] as? Double ?? 0, 0.054, accuracy: 0.005)

        let e = try json("eval", "at", "--task", task, "--data", testData, "--limit", "8", "--max-length", "24") as! [String: Any]
        XCTAssertEqual(e["n"] as? Int, 8)
        let a = try json("attention", "at", "--task", task, "--data", testData, "--limit", "8", "--max-length", "24") as! [String: Any]
        let weights = (a["attention"] as! [[String: Any]]).map { $0["mean"] as! Double }
        XCTAssertEqual(weights.count, 3)
        XCTAssertEqual(weights.reduce(0, +), 1, accuracy: 1e-4)
        // `pvec show --attention` reports the same numbers with the manifest.
        let shown = try json("show", "at", "--attention", "--task", task, "--data", testData, "--limit", "8", "--max-length", "24") as! [String: Any]
        XCTAssertEqual(shown["id"] as? String, try id("at"))
        let sa = (shown["attention"] as! [String: Any])["attention"] as! [[String: Any]]
        XCTAssertEqual(sa.map { $0["mean"] as! Double }, weights)
        XCTAssertEqual(sa.map { $0["prompt"] as! String }, ["s1", "s2", "at.target (target)"])
        let text = try pvec(["show", "at", "--attention", "--task", task, "--data", testData, "--limit", "8", "--max-length", "24"])
        XCTAssertEqual(text.status, 0, text.stderr)
        XCTAssertTrue(text.stdout.contains("mean attention") && text.stdout.contains("8 examples"), text.stdout)
        let noData = try pvec(["show", "at", "--attention"])
        XCTAssertNotEqual(noData.status, 0)
        XCTAssertTrue(noData.stderr.contains("Please give --task and --data with --attention."), noData.stderr)
        let v = try json("verify") as! [String: Any]
        XCTAssertEqual(v["clean"] as? Bool, true, "\(v)")
    }

    /// The paper's multi-task setting and G's pre-training: one shared module over two tasks, then
    /// a new single-task run that starts from that module.
    func testMultiTaskAttemptSharesOneModuleAndSeedsANewRun() throws {
        try sources()
        let t2 = try secondTask()
        let r = try pvec(["attempt", "--tasks", "\(Self.fixtures.path),\(t2)", "--sources", "s1,s2", "--name", "pre",
                          "--rank", "4", "--json"] + tiny)
        XCTAssertEqual(r.status, 0, r.stderr)
        let out = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any]
        XCTAssertEqual((out["tasks"] as! [[String: Any]]).map { $0["task"] as! String }, ["movie-small", "movie-b"])
        let g = try id("pre.module")
        for t in ["movie-small", "movie-b"] {
            XCTAssertEqual(try manifest("pre.\(t)")["kind"] as? String, "mixture")
            let p = try parents("pre.\(t)")
            XCTAssertEqual(p.map(\.0), ["tuned", "module", "source", "source"])
            XCTAssertEqual(p[0].1, try id("pre.\(t).target"))
            XCTAssertEqual(p[1].1, g, "both tasks share one module")
            let tp = try parents("pre.\(t).target")[0]
            XCTAssertEqual([tp.0, tp.1], ["init", try id("pre.\(t).init")])
        }
        XCTAssertNotEqual(try id("pre.movie-small.init"), try id("pre.movie-b.init"), "each task's init has its own seed")
        let mp = (try manifest("pre.module")["recipe"] as! [String: Any])["params"] as! [String: Any]
        XCTAssertEqual((mp["tasks"] as! [[String: String]]).map { $0["task"] }, ["movie-small", "movie-b"])
        XCTAssertEqual(try parents("pre.module").filter { $0.0 == "init" }.count, 2)
        let e = try json("eval", "pre.movie-b", "--task", task, "--data", testData, "--limit", "4", "--max-length", "24") as! [String: Any]
        XCTAssertEqual(e["n"] as? Int, 4)

        // A new run from the pre-trained G: same tensors at step 0, the start module in its lineage.
        try ok(["attempt", "--task", task, "--data", trainData, "--sources", "s1,s2", "--name", "ft", "--module", "pre.module"] + tiny)
        XCTAssertTrue(try parents("ft.module").contains { $0 == ("module", g) })
        let fp = (try manifest("ft.module")["recipe"] as! [String: Any])["params"] as! [String: Any]
        XCTAssertEqual(fp["rank"] as? Int, 4, "the rank comes from the start module")
        XCTAssertNil(fp["module_seed"])
        let lineage = try ok("lineage", "ft")
        XCTAssertTrue(lineage.contains("pre.module"), lineage)

        // Refusals: a prompt as --module, and both --task and --tasks; nothing is stored.
        let before = try artifactIDs()
        let bad = try pvec(["attempt", "--task", task, "--data", trainData, "--sources", "s1,s2", "--name", "x", "--module", "s1"] + tiny)
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertTrue(bad.stderr.contains("ATTEMPT module"), bad.stderr)
        let both = try pvec(["attempt", "--task", task, "--data", trainData, "--tasks", t2, "--sources", "s1", "--name", "y"] + tiny)
        XCTAssertNotEqual(both.status, 0)
        XCTAssertTrue(both.stderr.contains("either --task and --data"), both.stderr)
        XCTAssertEqual(try artifactIDs(), before)
    }

    func testAttemptRefusalsStoreNothing() throws {
        try sources()
        let before = try artifactIDs()
        try refused(["attempt", "--task", task, "--data", trainData, "--sources", "s1,nope", "--name", "x"] + tiny, containing: "nope")
        try refused(["attempt", "--task", task, "--data", trainData, "--sources", "s1.tau", "--name", "x"] + tiny, containing: "vector")
        try refused(["attention", "s1", "--task", task, "--data", testData], containing: "ATTEMPT mixture")
        XCTAssertEqual(try artifactIDs(), before)
    }

    func testAMPStoresOnePromptPerTaskWithModuleLineage() throws {
        try sources()
        let t2 = try secondTask()
        try ok(["amp", "--tasks", "\(Self.fixtures.path),\(t2)", "--sources", "s1,s2", "--name", "amp", "--key-width", "4", "--pooling", "max"] + tiny)
        let module = try id("amp.module")
        XCTAssertEqual(try manifest("amp.module")["kind"] as? String, "module")
        for t in ["movie-small", "movie-b"] {
            XCTAssertEqual(try manifest("amp.\(t)")["kind"] as? String, "prompt")
            XCTAssertEqual(try parents("amp.\(t)").map(\.0), ["source", "source", "module"])
            XCTAssertEqual(try parents("amp.\(t)").last?.1, module)
        }
        // Adding a task: retrain the kept module over three tasks, starting from it.
        let t3 = try secondTask(named: "movie-c")
        try ok(["amp", "--tasks", "\(Self.fixtures.path),\(t2),\(t3)", "--sources", "s1,s2,s1", "--name", "amp3",
                "--module", "amp.module"] + tiny)
        XCTAssertTrue(try parents("amp3.module").contains { $0 == ("module", module) })
        XCTAssertEqual(try parents("amp3.movie-c").map(\.0), ["source", "source", "source", "module"])
        let p3 = (try manifest("amp3.module")["recipe"] as! [String: Any])["params"] as! [String: Any]
        XCTAssertEqual(p3["pooling"] as? String, "max", "the start module's pooling")
        XCTAssertEqual(p3["key_width"] as? Int, 4, "the start module's key width")
        let before = try artifactIDs()
        try refused(["amp", "--tasks", "\(Self.fixtures.path),\(t2)", "--sources", "s1", "--name", "y"] + tiny, containing: "one source prompt per task")
        try refused(["amp", "--tasks", "\(Self.fixtures.path),\(t2)", "--sources", "s1,s2", "--name", "y", "--module", "s1"] + tiny,
                    containing: "AMP module")
        XCTAssertEqual(try artifactIDs(), before)
    }

    func testComPTStoresSourcesPrivatesRouterAndComposedPrompts() throws {
        try ok("init")
        let t2 = try secondTask()
        try ok(["compt", "--tasks", "\(Self.fixtures.path),\(t2)", "--name", "cp", "--composition", "mcat", "--num-sources", "2",
                "--prompt-len", "2"] + tiny)
        XCTAssertEqual(try manifest("cp.router")["kind"] as? String, "module")
        let shape = try manifest("cp.movie-b")["shape"] as! [Int]
        XCTAssertEqual(shape, [4, 384], "MCAT: as long as the concatenation of 2 sources of 2 rows")
        let p = try parents("cp.movie-b")
        XCTAssertEqual(p.map(\.0), ["source", "source", "operand", "module"])
        XCTAssertEqual(p.map(\.1), [try id("cp.src0"), try id("cp.src1"), try id("cp.movie-b.private"), try id("cp.router")])
        let e = try json("eval", "cp.movie-small", "--task", task, "--data", testData, "--limit", "4", "--max-length", "24") as! [String: Any]
        XCTAssertEqual(e["n"] as? Int, 4)
        let cpParams = (try manifest("cp.movie-b")["recipe"] as! [String: Any])["params"] as! [String: Any]
        XCTAssertEqual(cpParams["lr_scale"] as? Double ?? 0, 0.054, accuracy: 0.005)
    }

    func testMetaInitRecordsMethodAndSourceDatasets() throws {
        try ok("init")
        let t2 = try secondTask()
        try ok(["meta-init", "--tasks", "\(Self.fixtures.path),\(t2)", "--name", "meta", "--method", "reptile", "--outer-steps", "2",
                "--inner-steps", "1", "--batch", "4", "--prompt-len", "3", "--max-length", "24"])
        let m = try manifest("meta")
        XCTAssertEqual(m["kind"] as? String, "init")
        let params = (m["recipe"] as! [String: Any])["params"] as! [String: Any]
        XCTAssertEqual(params["method"] as? String, "reptile")
        let tasks = params["tasks"] as! [[String: String]]
        XCTAssertEqual(tasks.map { $0["task"] }, ["movie-small", "movie-b"])
        XCTAssertEqual(tasks[0]["data_sha256"]?.count, 64)
        XCTAssertEqual(try parents("meta").map(\.0), ["init"])
        // A new task trains from it.
        try ok(["train", "--task", task, "--data", trainData, "--name", "from-meta", "--init", "meta"] + tiny)
        let bad = try pvec(["meta-init", "--tasks", "\(Self.fixtures.path)", "--name", "m2", "--method", "maml"])
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertTrue(bad.stderr.contains("'maml' is invalid") && bad.stderr.contains("'fomaml'"), bad.stderr)
    }

    /// Today's training commands give the ids of fixtures/training-recipes (made by the pvec
    /// before typed recipes, scripts/make_training_recipe_fixture.sh): a representative subset
    /// of its steps is replayed and every manifest those steps recorded comes back byte for byte.
    ///
    /// Training is bit-reproducible for one OpenBLAS kernel; another kernel (another CPU)
    /// rounds sgemm differently, so trained values, their blob ids and every id above them
    /// differ. The fixture records its kernel (`blas-core.txt`); on another one, what does not
    /// go through BLAS (seeded inits) must still match byte for byte, and every named trained
    /// artifact must have the fixture's structure: kind, shape, dtype, backbone, op, recipe
    /// parameter names and the roles of its parents.
    func testTrainingRunsReproduceTheRecipeFixture() throws {
        let fixtureCore = (try? String(contentsOf: Self.fixtures.deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("training-recipes/blas-core.txt"), encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let core = BLAS.configuration.components(separatedBy: "; core ").dropFirst().first?
            .components(separatedBy: ";").first ?? "unknown"
        let sameKernel = fixtureCore == core
        try ok("init")
        let repoFixtures = Self.fixtures.deletingLastPathComponent().deletingLastPathComponent()
        try FileManager.default.createSymbolicLink(at: workDir.appendingPathComponent("fixtures"), withDestinationURL: repoFixtures)
        let dir = repoFixtures.appendingPathComponent("training-recipes")
        let index = try String(contentsOf: dir.appendingPathComponent("index.tsv"), encoding: .utf8)
            .split(separator: "\n").map { $0.split(separator: "\t", maxSplits: 2).map(String.init) }
        // train (seeded; few-shot), attempt (one task; several), amp, compt, meta-init, eval.
        let steps = ["01", "02", "05", "06", "08", "10", "14", "16"]
        var replayed = 0
        for step in steps {
            let entries = index.filter { $0[0].hasPrefix(step + "-") }
            XCTAssertFalse(entries.isEmpty, "no fixture step \(step)")
            guard let command = entries.first?[2] else { continue }
            let args = command.split(separator: " ").map(String.init).dropFirst()   // "pvec"
            try ok(Array(args))
            for e in entries {
                let id = e[1]
                let stored = registryDir.appendingPathComponent("manifests/\(id.prefix(2))/\(id.dropFirst(2))")
                let expected = try Data(contentsOf: dir.appendingPathComponent(e[0]))
                if sameKernel || FileManager.default.fileExists(atPath: stored.path) {
                    XCTAssertEqual(try? Data(contentsOf: stored), expected, "\(command) no longer stores \(e[0])")
                    replayed += 1
                    continue
                }
                // Another kernel: the named artifact, compared by structure.
                let name = String(e[0].dropFirst(3).dropLast(5))
                guard !name.hasPrefix("eval-"), !name.hasPrefix("op-") else { continue }
                let want = try XCTUnwrap(try JSONSerialization.jsonObject(with: expected) as? [String: Any])
                let got = try manifest(name)
                let canonical = { (v: Any?) -> String in
                    guard let v, let d = try? JSONSerialization.data(withJSONObject: ["v": v], options: [.sortedKeys]) else { return "nil" }
                    return String(decoding: d, as: UTF8.self)
                }
                for key in ["kind", "shape", "dtype", "backbone"] {
                    XCTAssertEqual(canonical(got[key]), canonical(want[key]), "\(name): \(key)")
                }
                let recipe = { (m: [String: Any]) in m["recipe"] as? [String: Any] ?? [:] }
                XCTAssertEqual(recipe(got)["op"] as? String, recipe(want)["op"] as? String, name)
                let keys = { (m: [String: Any]) in ((recipe(m)["params"] as? [String: Any]) ?? [:]).keys.sorted() }
                XCTAssertEqual(keys(got), keys(want), "\(name): recipe parameters")
                let roles = { (m: [String: Any]) in ((m["parents"] as? [[String: Any]]) ?? []).map { $0["role"] as? String ?? "" } }
                XCTAssertEqual(roles(got), roles(want), "\(name): parent roles")
                replayed += 1
            }
        }
        XCTAssertGreaterThanOrEqual(replayed, sameKernel ? 30 : 25, "kernel \(core), fixture made with \(fixtureCore ?? "?")")
    }

    /// The task-folder layout and the distinct-task-names rule live in the library, alike for
    /// every command; refusals come before the model loads and store nothing.
    func testTaskFolderAndTaskNameRefusalsAreSharedByTheCommands() throws {
        try sources()
        let before = try artifactIDs()
        let r = try refused(["amp", "--tasks", "\(Self.fixtures.path),nowhere", "--sources", "s1,s2", "--name", "x"] + tiny,
                            containing: "found neither nowhere/task.json nor ")
        XCTAssertTrue(r.stderr.contains("data/nowhere/task.json"), r.stderr)
        let twice = "\(Self.fixtures.path),\(Self.fixtures.path)"
        for args in [["attempt", "--sources", "s1"], ["amp", "--sources", "s1,s2"], ["compt"]] {
            try refused([args[0], "--tasks", twice, "--name", "x"] + args.dropFirst() + tiny,
                        containing: "task names must differ (movie-small, movie-small)")
        }
        XCTAssertEqual(try artifactIDs(), before)
    }
}

