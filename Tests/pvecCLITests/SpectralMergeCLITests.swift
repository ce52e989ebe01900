import Foundation
import PVecTensor
import XCTest

/// `pvec merge iso-c | tsv | model-stock` through the built binary, against the numpy
/// reference outputs of fixtures/spectral (scripts/make_spectral_fixtures.py).
final class SpectralMergeCLITests: CLITestCase {
    static let fixtures = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("fixtures/spectral")

    func fixture(_ file: String) throws -> Tensor {
        try NPY.decode(Array(try Data(contentsOf: Self.fixtures.appendingPathComponent(file))))
    }

    func exported(_ name: String) throws -> Tensor {
        let path = workDir.appendingPathComponent("\(name)-out.npy").path
        try ok("export", name, "--out", path)
        return try TestData.readNPY(path)
    }

    func maxDiff(_ a: Tensor, _ b: Tensor) -> Float {
        zip(a.scalars, b.scalars).reduce(Float(0)) { max($0, abs($1.0 - $1.1)) }
    }

    /// Imports fixture inputs as vectors of backbone "toy", named after them (`wide0`, …).
    func importVectors(_ names: [String]) throws {
        for n in names {
            try ok("import", Self.fixtures.appendingPathComponent("in_\(n).npy").path, "--name", n,
                   "--kind", "vector", "--backbone", "toy")
        }
    }

    func testIsoCAndTSVMatchNumpyAndVerifyRecomputesThem() throws {
        try ok("init")
        try importVectors(["wide0", "wide1", "wide2", "odd0", "odd1"])
        let runs: [(args: [String], expected: String)] = [
            (["iso-c", "wide0", "wide1", "wide2", "--name", "iso"], "out_iso_c_wide.npy"),
            (["iso-c", "wide0", "wide1", "--lambda", "1.5", "--name", "iso-alpha"], "out_iso_c_wide_alpha.npy"),
            (["tsv", "wide0", "wide1", "wide2", "--name", "tsv"], "out_tsv_wide.npy"),
            (["tsv", "odd0", "odd1", "--lambda", "1.3", "--name", "tsv-odd"], "out_tsv_odd.npy"),
        ]
        for r in runs {
            let out = try pvec(["merge"] + r.args + ["--json"])
            XCTAssertEqual(out.status, 0, "\(r.args): \(out.stderr)")
            let doc = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(out.stdout.utf8)) as? [String: Any])
            XCTAssertEqual(doc["kind"] as? String, "vector")
            let name = r.args[r.args.firstIndex(of: "--name")! + 1]
            let got = try exported(name), want = try fixture(r.expected)
            XCTAssertEqual(got.shape, want.shape, name)
            let scale = want.scalars.reduce(Float(0)) { max($0, abs($1)) }
            // The library test explains the tolerance: one Float rounding plus SVD noise.
            XCTAssertLessThanOrEqual(maxDiff(got, want), 4 * scale.ulp, "\(name): maxdiff \(maxDiff(got, want))")
        }
        let shown = try XCTUnwrap(try json("show", "iso-alpha") as? [String: Any])
        let recipe = try XCTUnwrap((shown["manifest"] as? [String: Any])?["recipe"] as? [String: Any])
        XCTAssertEqual(recipe["op"] as? String, "merge")
        let params = try XCTUnwrap(recipe["params"] as? [String: Any])
        XCTAssertEqual(params["method"] as? String, "iso-c")
        XCTAssertEqual(params["lambda"] as? Double, 1.5)
        // Same inputs, same recipe: the same id (the SVD is reproducible).
        let again = try XCTUnwrap(try json("merge", "iso-c", "wide0", "wide1", "--lambda", "1.5") as? [String: Any])
        XCTAssertEqual(again["id"] as? String, shown["id"] as? String)
        let v = try XCTUnwrap(try json("verify") as? [String: Any])
        XCTAssertEqual(v["clean"] as? Bool, true, "\(v)")
        XCTAssertEqual(v["recomputed"] as? Int, runs.count)
    }

    /// Model Stock on prompts tuned from one recorded init: their task vectors are derived,
    /// and the result is t · mean(tau) with the paper's t.
    func testModelStockOfPromptsWithARecordedInit() throws {
        try ok("init")
        let initTensor = TestData.tensor(rows: 8, width: 24, seed: 11)
        let initPath = try write(TestData.npy(initTensor), "init.npy")
        try ok("import", initPath, "--name", "base", "--kind", "init", "--backbone", "toy")
        for i in 0..<3 {
            let tau = try fixture("in_run\(i).npy")
            let prompt = Tensor(shape: tau.shape, scalars: zip(initTensor.scalars, tau.scalars).map { $0 + $1 })
            try ok("import", try write(TestData.npy(prompt), "run\(i).npy"), "--name", "run\(i)", "--init", "base")
        }
        try ok("merge", "model-stock", "run0", "run1", "run2", "--name", "stock")
        let got = try exported("stock"), want = try fixture("out_model_stock_3.npy")
        // tau_i = (init + run_i) − init in Float differs from run_i by an ulp of the prompt,
        // so this compares more loosely than the library test does.
        XCTAssertLessThanOrEqual(maxDiff(got, want), 1e-5, "model-stock: maxdiff \(maxDiff(got, want))")
        XCTAssertGreaterThan(maxDiff(got, try fixture("in_run0.npy")), 0.1, "not just one run")
        try ok("merge", "model-stock", "run0", "run1", "--name", "stock2")
        XCTAssertLessThanOrEqual(maxDiff(try exported("stock2"), try fixture("out_model_stock_2.npy")), 1e-5)
        let v = try XCTUnwrap(try json("verify") as? [String: Any])
        XCTAssertEqual(v["clean"] as? Bool, true, "\(v)")
    }

    func testBadInputsAreRefusedWithClearErrorsAndNothingStored() throws {
        try ok("init")
        try importVectors(["wide0", "wide1"])
        // Same width (so one backbone), fewer rows than wide0's 8.
        try ok("import", try write(TestData.npy(TestData.tensor(rows: 4, width: 24, seed: 5)), "short.npy"),
               "--name", "short", "--kind", "vector", "--backbone", "toy")
        let before = try artifactIDs()
        for method in ["iso-c", "tsv", "model-stock"] {
            try refused(["merge", method, "wide0", "short"], containing: "wide0 is [8, 24] but short is [4, 24]")
            try refused(["merge", method, "wide0"], containing: "needs at least two operands")
        }
        try refused(["merge", "model-stock", "wide0", "wide1", "--lambda", "2"], containing: "--lambda applies to")
        try refused(["merge", "iso-c", "wide0", "wide1", "--density", "0.2"], containing: "--density applies to")
        XCTAssertEqual(try artifactIDs(), before)
    }

    func testHelpTeachesTheSpectralMerges() throws {
        let help = try ok("merge", "--help")
        for word in ["iso-c", "tsv", "model-stock", "singular", "pvec merge iso-c"] {
            XCTAssertTrue(help.contains(word), "merge --help lacks \(word)")
        }
    }
}
