import Foundation
import PVecTensor
import XCTest

/// `pvec vector/add/sub/neg/scale/cos/norm` against values computed here, independently.
final class AlgebraCLITests: CLITestCase {
    var initT: Tensor!, tunedA: Tensor!, tunedB: Tensor!

    /// Registry with init `i` and prompts `a`, `b` tuned from it (imported from .npy).
    func makeFixture() throws {
        try ok("init")
        initT = TestData.tensor(rows: 4, width: 6, seed: 1)
        tunedA = TestData.tensor(rows: 4, width: 6, seed: 2)
        tunedB = TestData.tensor(rows: 4, width: 6, seed: 3)
        try ok("import", try write(TestData.npy(initT), "i.npy"), "--name", "i", "--kind", "init", "--backbone", "toy")
        try ok("import", try write(TestData.npy(tunedA), "a.npy"), "--name", "a", "--init", "i")
        try ok("import", try write(TestData.safetensors(tunedB), "b.safetensors"), "--name", "b", "--init", "i")
    }

    func exported(_ name: String) throws -> [Float] {
        let path = workDir.appendingPathComponent("\(name)-out.npy").path
        try ok("export", name, "--out", path)
        return try TestData.readNPY(path).scalars
    }

    func testAddWithLambdaIsBitExactAgainstPlainLoop() throws {
        try makeFixture()
        try ok("add", "a", "b", "--lambda", "0.5", "--name", "c")
        let got = try exported("c")
        var want = [Float]()
        for k in 0..<initT.count {
            let ta = tunedA.scalars[k] - initT.scalars[k]
            let tb = tunedB.scalars[k] - initT.scalars[k]
            want.append(Float(0.5) * (ta + tb))
        }
        XCTAssertEqual(got, want)
    }

    func testAddOntoMaterialisesPrompt() throws {
        try makeFixture()
        let out = try json("add", "a", "b", "--lambda", "0.3", "--onto", "i", "--name", "p") as! [String: Any]
        XCTAssertEqual(out["kind"] as? String, "prompt")
        let got = try exported("p")
        for k in 0..<initT.count {
            let s = (tunedA.scalars[k] - initT.scalars[k]) + (tunedB.scalars[k] - initT.scalars[k])
            XCTAssertEqual(got[k], initT.scalars[k] + Float(0.3) * s)
        }
        // The materialised prompt records its init, so it is usable as a vector itself.
        let norm = try json("norm", "p") as! [[String: Any]]
        XCTAssertEqual(norm.count, 1)
    }

    func testSubNegScale() throws {
        try makeFixture()
        try ok("sub", "a", "b", "--name", "d")
        try ok("neg", "a", "--name", "n")
        try ok("scale", "b", "--by=-2.5", "--name", "s")
        let d = try exported("d"), n = try exported("n"), s = try exported("s")
        for k in 0..<initT.count {
            let ta = tunedA.scalars[k] - initT.scalars[k], tb = tunedB.scalars[k] - initT.scalars[k]
            XCTAssertEqual(d[k], ta - tb)
            XCTAssertEqual(n[k], -ta)
            XCTAssertEqual(s[k], Float(-2.5) * tb)
        }
    }

    func testCosineAndMatrixMatchDoubleReference() throws {
        try makeFixture()
        try ok("vector", "tau-a", "--tuned", "a", "--init", "i")
        let ta = try exported("tau-a")
        let tb = zip(tunedB.scalars, initT.scalars).map { $0 - $1 }
        let c = try json("cos", "a", "b") as! [String: Any]
        XCTAssertEqual(c["cosine"] as! Double, TestData.cosine(ta, tb), accuracy: 1e-5)
        let raw = try json("cos", "--raw", "a", "b") as! [String: Any]
        XCTAssertEqual(raw["cosine"] as! Double, TestData.cosine(tunedA.scalars, tunedB.scalars), accuracy: 1e-5)
        let m = try json("cos", "--matrix", "a", "b", "tau-a") as! [String: Any]
        let rows = m["cosine"] as! [[Double]]
        XCTAssertEqual(rows.count, 3)
        XCTAssertEqual(rows[0][1], TestData.cosine(ta, tb), accuracy: 1e-5)
        XCTAssertEqual(rows[1][0], rows[0][1], accuracy: 1e-6)
        XCTAssertEqual(rows[0][2], 1, accuracy: 1e-5)
        XCTAssertEqual(rows[2][2], 1, accuracy: 1e-5)
        // The table prints each cosine as printf's %.4f would (the fast formatter).
        let text = try ok("cos", "--matrix", "a", "b", "tau-a").split(separator: "\n").map { $0.split(separator: " ").map(String.init) }
        XCTAssertEqual(text[0], ["a", "b", "tau-a"])
        for (i, row) in rows.enumerated() {
            XCTAssertEqual(Array(text[i + 1].dropFirst()), row.map { String(format: "%.4f", Float($0)) })
        }
        // Operands load in parallel; with several bad names the first one is reported.
        let bad = try pvec(["cos", "--matrix", "a", "nope1", "b", "nope2"])
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertTrue(bad.stderr.contains("nope1") && !bad.stderr.contains("nope2"), bad.stderr)
        let norms = try json("norm", "tau-a") as! [[String: Any]]
        let want = ta.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
        XCTAssertEqual(norms[0]["norm"] as! Double, want, accuracy: 1e-5)
    }

    func testReadCommandsDoNotWrite() throws {
        try makeFixture()
        let before = try artifactIDs()
        try ok("cos", "a", "b")
        try ok("norm", "a")
        try ok("show", "a")
        XCTAssertEqual(try artifactIDs(), before, "cos/norm/show must not store derived vectors")
    }

    func testSameInputsGiveSameIdsInAnotherRegistry() throws {
        try makeFixture()
        let first = try json("add", "a", "b", "--lambda", "0.5", "--name", "c") as! [String: Any]
        try FileManager.default.removeItem(at: registryDir)
        try makeFixture()
        let second = try json("add", "a", "b", "--lambda", "0.5", "--name", "c") as! [String: Any]
        XCTAssertEqual(first["id"] as! String, second["id"] as! String)
    }

    func testVerifyRecomputesDerivedArtifactsAndSeededInits() throws {
        try makeFixture()
        try ok("add", "a", "b", "--lambda", "0.5", "--name", "c")
        try ok("init-prompt", "--rows", "3", "--width", "6", "--seed", "11", "--name", "seeded")
        let r = try json("verify") as! [String: Any]
        XCTAssertEqual(r["clean"] as? Bool, true)
        // two derived vectors (tau-a, tau-b), the sum, and the seeded init
        XCTAssertGreaterThanOrEqual(r["recomputed"] as! Int, 4)
        // Regenerating the same seeded init elsewhere gives the same id.
        let again = try json("init-prompt", "--rows", "3", "--width", "6", "--seed", "11") as! [String: Any]
        let shown = try json("show", "seeded") as! [String: Any]
        XCTAssertEqual(again["id"] as! String, shown["id"] as! String)
    }

    func testUniformInitFollowsTheDocumentedGenerator() throws {
        try ok("init")
        try ok("init-prompt", "--rows", "2", "--width", "3", "--seed", "42", "--range", "0.5", "--name", "u")
        let got = try exported("u")
        var g = SplitMix64(seed: 42)
        let want = (0..<6).map { _ in Float(0.5) * (2 * g.nextFloat01() - 1) }
        XCTAssertEqual(got, want)
    }
}
