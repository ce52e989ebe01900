import Foundation
import PVecTensor
import XCTest

/// import/export round trips for safetensors, .npy and PEFT adapters.
final class FormatCLITests: CLITestCase {
    override func setUpWithError() throws {
        try super.setUpWithError()
        try ok("init")
    }

    func testSafetensorsKeySelectionAndDtypes() throws {
        let a = TestData.tensor(rows: 3, width: 8, seed: 1), b = TestData.tensor(rows: 2, width: 8, seed: 2)
        let path = try write(Safetensors.encode(["first": a, "second": b]), "two.safetensors")
        try refused(["import", path, "--name", "x", "--backbone", "toy"], containing: "--tensor")
        try ok("import", path, "--name", "x", "--tensor", "second", "--backbone", "toy")
        let out = workDir.appendingPathComponent("x.safetensors").path
        try ok("export", "x", "--out", out)
        let file = try SafetensorsFile(bytes: Array(try Data(contentsOf: URL(fileURLWithPath: out))))
        XCTAssertEqual(try file.tensor(key: nil), b)
        let half = workDir.appendingPathComponent("x16.npy").path
        try ok("export", "x", "--out", half, "--dtype", "F16")
        let back = try TestData.readNPY(half)
        for (g, w) in zip(back.scalars, b.scalars) { XCTAssertEqual(g, w, accuracy: 1e-3) }
    }

    func testPEFTAdapterRoundTripKeepsConfig() throws {
        let dir = workDir.appendingPathComponent("adapter")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let t = TestData.tensor(rows: 8, width: 16, seed: 3)
        try Data(Safetensors.encode(["prompt_embeddings": t], metadata: ["format": "pt"]))
            .write(to: dir.appendingPathComponent("adapter_model.safetensors"))
        let config = """
        {"peft_type": "PROMPT_TUNING", "task_type": "SEQ_CLS", "num_virtual_tokens": 8, "token_dim": 16,
         "num_transformer_submodules": 1, "num_attention_heads": 2, "num_layers": 2,
         "base_model_name_or_path": "toy/base", "prompt_tuning_init": "RANDOM", "inference_mode": true}
        """
        try Data(config.utf8).write(to: dir.appendingPathComponent("adapter_config.json"))
        try ok("import", dir.path, "--name", "ad")
        let shown = try json("show", "ad") as! [String: Any]
        let manifest = shown["manifest"] as! [String: Any]
        XCTAssertEqual((manifest["backbone"] as! [String: Any])["model"] as? String, "toy/base")
        let out = workDir.appendingPathComponent("out-adapter")
        try ok("export", "ad", "--out", out.path, "--format", "peft")
        let cfg = try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("adapter_config.json"))) as! [String: Any]
        XCTAssertEqual(cfg["peft_type"] as? String, "PROMPT_TUNING")
        XCTAssertEqual(cfg["task_type"] as? String, "SEQ_CLS")
        XCTAssertEqual(cfg["num_virtual_tokens"] as? Int, 8)
        XCTAssertEqual(cfg["base_model_name_or_path"] as? String, "toy/base")
        let file = try SafetensorsFile(bytes: Array(try Data(contentsOf: out.appendingPathComponent("adapter_model.safetensors"))))
        XCTAssertEqual(file.metadata?["format"], "pt")
        XCTAssertEqual(try file.tensor("prompt_embeddings"), t)
    }

    func testBadPEFTConfigIsRefused() throws {
        let dir = workDir.appendingPathComponent("bad-adapter")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try Data(Safetensors.encode(["prompt_embeddings": TestData.tensor(rows: 8, width: 16, seed: 3)]))
            .write(to: dir.appendingPathComponent("adapter_model.safetensors"))
        try Data(#"{"peft_type": "PROMPT_TUNING", "num_virtual_tokens": 5, "token_dim": 16, "num_transformer_submodules": 1}"#.utf8)
            .write(to: dir.appendingPathComponent("adapter_config.json"))
        try refused(["import", dir.path, "--name", "bad"], containing: "num_virtual_tokens")
    }

    func testFortranOrderNpyIsRefused() throws {
        var bytes = NPY.encode(TestData.tensor(rows: 2, width: 3, seed: 1))
        let needle = Array("False, ".utf8)
        let offset = (0...(bytes.count - needle.count)).first { Array(bytes[$0..<($0 + needle.count)]) == needle }!
        bytes.replaceSubrange(offset..<(offset + 7), with: Array("True,  ".utf8))
        try refused(["import", try write(bytes, "f.npy"), "--name", "f", "--backbone", "toy"], containing: "Fortran")
    }
}
