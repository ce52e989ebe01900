import Foundation
import PVecTensor
import XCTest

/// PEFT interop through the CLI, on adapters written byte for byte as PEFT's `save_pretrained`
/// writes them (`scripts/make_peft_fixtures.py`, numpy only, outputs in `fixtures/peft`):
/// import → arithmetic → export keeps the adapter config, the element type and every tensor.
final class PEFTInteropCLITests: CLITestCase {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../fixtures/peft").standardized

    static func fixture(_ name: String) -> String { fixtures.appendingPathComponent(name).path }

    override func setUpWithError() throws {
        try super.setUpWithError()
        try ok("init")
    }

    /// The two files of an adapter directory.
    func files(_ dir: String) throws -> (config: Data, weights: Data) {
        let url = URL(fileURLWithPath: dir)
        return (try Data(contentsOf: url.appendingPathComponent("adapter_config.json")),
                try Data(contentsOf: url.appendingPathComponent("adapter_model.safetensors")))
    }

    func config(_ dir: String) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: try files(dir).config) as! [String: Any]
    }

    func exportPEFT(_ name: String, _ extra: String...) throws -> String {
        let out = workDir.appendingPathComponent("\(name)-out").path
        let r = try pvec(["export", name, "--out", out, "--format", "peft"] + extra)
        XCTAssertEqual(r.status, 0, "export \(name) failed: \(r.stderr)")
        return out
    }

    func assertSameAdapter(_ out: String, _ reference: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let got = try files(out), want = try files(reference)
        XCTAssertEqual(String(decoding: got.config, as: UTF8.self), String(decoding: want.config, as: UTF8.self),
                       "adapter_config.json differs from \(reference)", file: file, line: line)
        XCTAssertTrue(got.weights == want.weights, "adapter_model.safetensors differs from \(reference)", file: file, line: line)
    }

    func importT5() throws {
        try ok("import", Self.fixture("t5-init"), "--name", "t5-init", "--kind", "init")
        try ok("import", Self.fixture("t5-a"), "--name", "t5-a", "--init", "t5-init")
        try ok("import", Self.fixture("t5-b"), "--name", "t5-b", "--init", "t5-init")
    }

    // MARK: - Round trips (items 2, 3: dtype and every tensor)

    /// import → export of each adapter gives back PEFT's own bytes: the config as
    /// `json.dumps(indent=2, sort_keys=True)`, BF16 kept as BF16, the SEQ_CLS head kept.
    func testImportExportIsByteIdentical() throws {
        for name in ["fe", "t5-init", "causal-init", "seqcls"] {
            try ok("import", Self.fixture(name), "--name", name)
            try assertSameAdapter(try exportPEFT(name), Self.fixture(name))
        }
    }

    /// A SEQ_CLS adapter's classifier head is stored (a module linked to the prompt), written
    /// back with its keys, and carried by a derivation of the prompt.
    func testClassifierHeadIsKeptAndCarried() throws {
        try ok("import", Self.fixture("seqcls"), "--name", "cls")
        let shown = try json("show", "cls") as! [String: Any]
        let parents = (shown["manifest"] as! [String: Any])["parents"] as! [[String: Any]]
        XCTAssertEqual(parents.map { $0["role"] as? String }, ["module"])
        let out = try exportPEFT("cls")
        let file = try SafetensorsFile(bytes: Array(try files(out).weights))
        XCTAssertEqual(Set(file.keys), ["prompt_embeddings", "base_model.classifier.weight", "base_model.classifier.bias"])
        let original = try SafetensorsFile(bytes: Array(try files(Self.fixture("seqcls")).weights))
        XCTAssertEqual(try file.tensor("base_model.classifier.weight"), try original.tensor("base_model.classifier.weight"))
        // (x + x) / 2 is x exactly: the merged prompt exports as the original adapter.
        try ok("merge", "linear", "cls", "cls", "--weights", "1,1", "--name", "soup")
        try assertSameAdapter(try exportPEFT("soup"), Self.fixture("seqcls"))
        XCTAssertEqual(try pvec(["verify"]).status, 0)
    }

    /// Two prompts with different heads give a result that can carry neither: refused, unless
    /// `--peft-config` says what the result is (it then carries no head).
    func testDifferentHeadsAreRefusedUnlessConfigGiven() throws {
        try ok("import", Self.fixture("seqcls"), "--name", "cls")
        let other = workDir.appendingPathComponent("cls2")
        try FileManager.default.createDirectory(at: other, withIntermediateDirectories: true)
        let (cfg, weights) = try files(Self.fixture("seqcls"))
        let file = try SafetensorsFile(bytes: Array(weights))
        var tensors: [String: Tensor] = [:]
        for k in file.keys { tensors[k] = try file.tensor(k) }
        tensors["base_model.classifier.bias"] = Tensor(shape: [2], scalars: [0.25, -0.25])
        try Data(Safetensors.encode(tensors, metadata: ["format": "pt"])).write(to: other.appendingPathComponent("adapter_model.safetensors"))
        try cfg.write(to: other.appendingPathComponent("adapter_config.json"))
        try ok("import", other.path, "--name", "cls2")
        let before = try artifactIDs()
        try refused(["merge", "linear", "cls", "cls2", "--weights", "1,1", "--name", "bad"], containing: "modules_to_save")
        XCTAssertEqual(try artifactIDs(), before)
        let given = workDir.appendingPathComponent("given.json")
        try cfg.write(to: given)
        try ok("merge", "linear", "cls", "cls2", "--weights", "1,1", "--peft-config", given.path, "--name", "soup")
        let out = try SafetensorsFile(bytes: Array(try files(try exportPEFT("soup")).weights))
        XCTAssertEqual(out.keys, ["prompt_embeddings"])
    }

    /// BF16 adapters: exported in BF16 by default, through arithmetic too; `--dtype` is
    /// honoured in every format.
    func testBF16IsKeptAndDtypeIsHonoured() throws {
        try ok("import", Self.fixture("causal-init"), "--name", "c-init", "--kind", "init")
        try ok("import", Self.fixture("causal-tuned"), "--name", "c-tuned", "--init", "c-init")
        try ok("add", "c-tuned", "--lambda", "0.5", "--onto", "c-init", "--name", "c-half")
        try assertSameAdapter(try exportPEFT("c-half"), Self.fixture("expected/causal-half"))

        let f32 = try SafetensorsFile(bytes: Array(try files(try exportPEFT("c-tuned", "--dtype", "F32")).weights))
        XCTAssertEqual(f32.entries.first?.dtype, .f32)
        let original = try SafetensorsFile(bytes: Array(try files(Self.fixture("causal-tuned")).weights))
        XCTAssertEqual(try f32.tensor("prompt_embeddings"), try original.tensor("prompt_embeddings"))

        let st = workDir.appendingPathComponent("c.safetensors").path
        try ok("export", "c-tuned", "--out", st)
        XCTAssertEqual(try SafetensorsFile(bytes: Array(try Data(contentsOf: URL(fileURLWithPath: st)))).entries.first?.dtype, .bf16)
        try ok("export", "c-tuned", "--out", st, "--dtype", "f16")
        XCTAssertEqual(try SafetensorsFile(bytes: Array(try Data(contentsOf: URL(fileURLWithPath: st)))).entries.first?.dtype, .f16)
        let npy = workDir.appendingPathComponent("c.npy").path
        try ok("export", "c-tuned", "--out", npy)
        XCTAssertEqual(try NPY.header(of: Array(try Data(contentsOf: URL(fileURLWithPath: npy)))).dtype, .f32)
        try ok("export", "c-tuned", "--out", npy, "--dtype", "F16")
        XCTAssertEqual(try NPY.header(of: Array(try Data(contentsOf: URL(fileURLWithPath: npy)))).dtype, .f16)
    }

    // MARK: - Derived artifacts carry the config (item 1)

    /// `add t5-a t5-b --lambda 0.5 --onto t5-init` exports SEQ_2_SEQ_LM with 2 submodules and
    /// 8 virtual tokens, with the values numpy computes; `verify` recomputes it bit for bit.
    func testAddOntoInitKeepsSeq2SeqConfig() throws {
        try importT5()
        try ok("add", "t5-a", "t5-b", "--lambda", "0.5", "--onto", "t5-init", "--name", "t5-ab")
        let out = try exportPEFT("t5-ab")
        let cfg = try config(out)
        XCTAssertEqual(cfg["task_type"] as? String, "SEQ_2_SEQ_LM")
        XCTAssertEqual(cfg["num_transformer_submodules"] as? Int, 2)
        XCTAssertEqual(cfg["num_virtual_tokens"] as? Int, 8)
        try assertSameAdapter(out, Self.fixture("expected/t5-add"))
        for op in [["sub", "t5-a", "t5-b"], ["neg", "t5-a"], ["scale", "t5-a", "--by", "2"],
                   ["merge", "ties", "t5-a", "t5-b", "--density", "0.5", "--lambda", "1"]] {
            let name = "d-\(op[0])"
            let r = try pvec(op + ["--name", name])
            XCTAssertEqual(r.status, 0, "\(op[0]): \(r.stderr)")
            let c = try config(try exportPEFT(name, "--allow-vector"))
            XCTAssertEqual(c["task_type"] as? String, "SEQ_2_SEQ_LM", "\(op[0])")
            XCTAssertEqual(c["num_transformer_submodules"] as? Int, 2, "\(op[0])")
        }
        let r = try pvec(["verify", "--json"])
        XCTAssertEqual(r.status, 0, r.stderr)
    }

    /// Parents from adapters PEFT would load differently are refused, nothing stored; with
    /// `--peft-config FILE` the result takes that config.
    func testDisagreeingConfigsAreRefusedUnlessGiven() throws {
        try ok("import", Self.fixture("causal-init"), "--name", "c-init", "--kind", "init")
        try ok("import", Self.fixture("causal-tuned"), "--name", "c-tuned", "--init", "c-init")
        let other = workDir.appendingPathComponent("cls-adapter")
        try FileManager.default.createDirectory(at: other, withIntermediateDirectories: true)
        let (cfgData, weights) = try files(Self.fixture("causal-tuned"))
        let cls = String(decoding: cfgData, as: UTF8.self).replacingOccurrences(of: "\"CAUSAL_LM\"", with: "\"SEQ_CLS\"")
        try Data(cls.utf8).write(to: other.appendingPathComponent("adapter_config.json"))
        try weights.write(to: other.appendingPathComponent("adapter_model.safetensors"))
        let otherInit = workDir.appendingPathComponent("cls-init")
        try FileManager.default.createDirectory(at: otherInit, withIntermediateDirectories: true)
        try Data(cls.utf8).write(to: otherInit.appendingPathComponent("adapter_config.json"))
        try files(Self.fixture("causal-init")).weights.write(to: otherInit.appendingPathComponent("adapter_model.safetensors"))
        try ok("import", otherInit.path, "--name", "cls-init", "--kind", "init")
        try ok("import", other.path, "--name", "c-cls", "--init", "cls-init")
        let before = try artifactIDs()
        try refused(["add", "c-tuned", "c-cls", "--name", "bad"], containing: "task_type")
        XCTAssertEqual(try artifactIDs(), before, "a refused add stored something")
        let given = workDir.appendingPathComponent("given.json")
        try Data(cls.utf8).write(to: given)
        try ok("add", "c-tuned", "c-cls", "--onto", "c-init", "--peft-config", given.path, "--name", "both")
        XCTAssertEqual(try config(try exportPEFT("both"))["task_type"] as? String, "SEQ_CLS")
    }

    // MARK: - Base model (item 4)

    func testBaseModelIsNullWhenUnknownAndBackboneWins() throws {
        try ok("import", try write(TestData.npy(TestData.tensor(rows: 4, width: 8, seed: 1)), "p.npy"), "--name", "p")
        XCTAssertTrue(try config(try exportPEFT("p"))["base_model_name_or_path"] is NSNull)
        try ok("import", Self.fixture("fe"), "--name", "fe", "--backbone", "my-org/minilm")
        XCTAssertEqual(try config(try exportPEFT("fe"))["base_model_name_or_path"] as? String, "my-org/minilm")
    }

    // MARK: - A task vector is not a prompt (item 5)

    func testVectorExportAsAdapterIsRefused() throws {
        try importT5()
        try ok("scale", "t5-a", "--by", "1", "--name", "tau")
        let out = workDir.appendingPathComponent("tau-adapter").path
        try refused(["export", "tau", "--out", out, "--format", "peft"], containing: "--onto")
        XCTAssertFalse(FileManager.default.fileExists(atPath: out))
        XCTAssertEqual(try config(try exportPEFT("tau", "--allow-vector"))["task_type"] as? String, "SEQ_2_SEQ_LM")
    }

    // MARK: - Formats (item 7) and enum-typed options

    func testSafetensorsKeyAndF64Note() throws {
        try ok("import", Self.fixture("fe"), "--name", "fe")
        let st = workDir.appendingPathComponent("fe.safetensors").path
        try ok("export", "fe", "--out", st)
        XCTAssertEqual(try SafetensorsFile(bytes: Array(try Data(contentsOf: URL(fileURLWithPath: st)))).keys, ["prompt_embeddings"])
        try ok("export", "fe", "--out", st, "--key", "soft_prompt")
        XCTAssertEqual(try SafetensorsFile(bytes: Array(try Data(contentsOf: URL(fileURLWithPath: st)))).keys, ["soft_prompt"])

        let t = TestData.tensor(rows: 2, width: 4, seed: 5)
        let path = try write(NPY.encode(t, dtype: .f64), "wide.npy")
        let r = try pvec(["import", path, "--name", "wide", "--backbone", "toy"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stderr.contains("rounded to F32"), "no rounding note: \(r.stderr)")
        // Only adapters record their element type: a file import's id is what it always was.
        let recipe = ((try json("show", "wide") as! [String: Any])["manifest"] as! [String: Any])["recipe"] as! [String: Any]
        XCTAssertEqual(Set((recipe["params"] as! [String: Any]).keys), ["format", "sha256"])
        let quiet = try pvec(["import", try write(NPY.encode(t), "narrow.npy"), "--name", "narrow", "--backbone", "toy"])
        XCTAssertEqual(quiet.stderr, "")
    }

    func testFormatAndDtypeAreCheckedAtParseTime() throws {
        let bad = try pvec(["export", "x", "--out", "y", "--format", "onnx"])
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertTrue(bad.stderr.contains("safetensors") && bad.stderr.contains("peft"), bad.stderr)
        XCTAssertFalse(bad.stderr.contains("no artifact"), "--format was not checked before the name: \(bad.stderr)")
        let dtype = try pvec(["export", "x", "--out", "y", "--dtype", "F17"])
        XCTAssertNotEqual(dtype.status, 0)
        XCTAssertTrue(dtype.stderr.contains("BF16"), dtype.stderr)
        let kind = try pvec(["import", Self.fixture("fe"), "--name", "fe", "--format", "onnx"])
        XCTAssertNotEqual(kind.status, 0)
        XCTAssertTrue(kind.stderr.contains("peft"), kind.stderr)
        try ok("import", Self.fixture("fe") + "/adapter_model.safetensors", "--name", "fe-st", "--format", "safetensors",
               "--tensor", "prompt_embeddings", "--backbone", "toy")
        let zsh = try pvec(["--generate-completion-script", "zsh"], registry: false)
        XCTAssertTrue(zsh.stdout.contains("___format=('safetensors' 'npy' 'peft')"), "completion does not offer the formats")
        XCTAssertTrue(zsh.stdout.contains("___dtype=('F32' 'F16' 'BF16' 'F64')"), "completion does not offer the dtypes")
    }
}
