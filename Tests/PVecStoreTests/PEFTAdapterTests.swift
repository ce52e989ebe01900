import Foundation
import PVecTensor
import XCTest
@testable import PVecStore

final class PEFTAdapterTests: XCTestCase {
    private func writeAdapter(_ dir: URL, config: JSONValue?, tensor: Tensor?, key: String = "prompt_embeddings") throws {
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        if let config { try Data(config.canonicalBytes).write(to: dir.appendingPathComponent("adapter_config.json")) }
        if let tensor {
            try Data(Safetensors.encode([key: tensor], metadata: ["format": "pt"]))
                .write(to: dir.appendingPathComponent("adapter_model.safetensors"))
        }
    }

    private func config(tokens: Int64, dim: Int64, submodules: JSONValue = 1, type: String = "PROMPT_TUNING") -> JSONValue {
        ["peft_type": .string(type), "task_type": "SEQ_CLS", "num_virtual_tokens": .int(tokens), "token_dim": .int(dim),
         "num_transformer_submodules": submodules, "base_model_name_or_path": "sentence-transformers/all-MiniLM-L6-v2",
         "prompt_tuning_init": "TEXT", "prompt_tuning_init_text": "Classify the sentiment", "num_layers": 6,
         "num_attention_heads": 12, "inference_mode": true, "custom_field": ["kept": true]]
    }

    func testRoundTripKeepsConfig() throws {
        let tmp = try TempDir()
        let t = Fixtures.normal([5, 8], seed: 1)
        let src = tmp.url.appendingPathComponent("in")
        try writeAdapter(src, config: config(tokens: 5, dim: 8), tensor: t)
        let read = try PEFTAdapter.read(directory: src)
        XCTAssertEqual(read.tensor, t)
        XCTAssertEqual(read.config, config(tokens: 5, dim: 8))

        let out = tmp.url.appendingPathComponent("out")
        try PEFTAdapter.write(tensor: read.tensor, config: read.config, baseModel: nil, to: out)
        let back = try PEFTAdapter.read(directory: out)
        XCTAssertEqual(back.tensor, t)
        XCTAssertEqual(back.config, read.config, "every field that came in goes out")
        // A backbone named at export (the registry's) is what the config says.
        let named = tmp.url.appendingPathComponent("named")
        try PEFTAdapter.write(tensor: read.tensor, config: read.config, baseModel: "other", to: named)
        XCTAssertEqual(try PEFTAdapter.read(directory: named).config["base_model_name_or_path"], "other")
        let file = try SafetensorsFile(bytes: Array(Data(contentsOf: out.appendingPathComponent("adapter_model.safetensors"))))
        XCTAssertEqual(file.metadata, ["format": "pt"])
        XCTAssertEqual(file.keys, ["prompt_embeddings"])
        XCTAssertEqual(file.entries.first?.dtype, .f32)
    }

    func testDefaultConfigAndSubmodules() throws {
        let tmp = try TempDir()
        let t = Fixtures.normal([6, 4], seed: 2)
        let out = tmp.url.appendingPathComponent("adapter")
        try PEFTAdapter.write(tensor: t, config: nil, baseModel: "sentence-transformers/all-MiniLM-L6-v2", to: out)
        let back = try PEFTAdapter.read(directory: out)
        XCTAssertEqual(back.tensor, t)
        XCTAssertEqual(back.config["peft_type"], "PROMPT_TUNING")
        XCTAssertEqual(back.config["num_virtual_tokens"], 6)
        XCTAssertEqual(back.config["token_dim"], 4)
        XCTAssertEqual(back.config["num_transformer_submodules"], 1)
        XCTAssertEqual(back.config["base_model_name_or_path"], "sentence-transformers/all-MiniLM-L6-v2")
        XCTAssertNotNil(back.config["task_type"]?.stringValue)

        // Two submodules (encoder-decoder): rows = 2 × num_virtual_tokens.
        let two = tmp.url.appendingPathComponent("two")
        try PEFTAdapter.write(tensor: t, config: config(tokens: 99, dim: 99, submodules: 2), baseModel: nil, to: two)
        let read2 = try PEFTAdapter.read(directory: two)
        XCTAssertEqual(read2.config["num_virtual_tokens"], 3)
        XCTAssertEqual(read2.config["token_dim"], 4)
        XCTAssertThrowsError(try PEFTAdapter.write(tensor: Fixtures.normal([5, 4], seed: 3),
                                                   config: config(tokens: 5, dim: 4, submodules: 2), baseModel: nil,
                                                   to: tmp.url.appendingPathComponent("odd")))
        XCTAssertThrowsError(try PEFTAdapter.write(tensor: t, config: config(tokens: 6, dim: 4, type: "LORA"), baseModel: nil,
                                                   to: tmp.url.appendingPathComponent("lora")))
    }

    /// The config is written as Python's `json.dumps(value, indent=2, sort_keys=True)` (the
    /// expected text is Python 3's output for this value).
    func testConfigTextIsPEFTConfigTextDumps() {
        let v: JSONValue = ["b": [1, .double(2.5), true, .null], "a": ["x": .string("é\u{2028}😀\"\\\n")],
                            "c": .array([]), "d": .object([:]), "e": .double(1e-05), "f": .double(3.0),
                            "g": .double(1e16), "h": .double(123456.789)]
        let python = "{\n  \"a\": {\n    \"x\": \"\\u00e9\\u2028\\ud83d\\ude00\\\"\\\\\\n\"\n  },\n  \"b\": [\n    1,\n    2.5,\n    true,\n    null\n  ],\n  \"c\": [],\n  \"d\": {},\n  \"e\": 1e-05,\n  \"f\": 3.0,\n  \"g\": 1e+16,\n  \"h\": 123456.789\n}"
        XCTAssertEqual(String(decoding: PEFTConfigText.dumps(v), as: UTF8.self), python)
    }

    func testRefusesBadAdapters() throws {
        let tmp = try TempDir()
        let t = Fixtures.normal([5, 8], seed: 1)
        func expectFailure(_ name: String, config: JSONValue?, tensor: Tensor?, key: String = "prompt_embeddings",
                           mentioning words: [String], line: UInt = #line) throws {
            let dir = tmp.url.appendingPathComponent(name)
            try writeAdapter(dir, config: config, tensor: tensor, key: key)
            XCTAssertThrowsError(try PEFTAdapter.read(directory: dir), name, line: line) { e in
                guard case .invalidAdapter(_, let reason)? = e as? StoreError else { return XCTFail("\(e)", line: line) }
                for w in words { XCTAssertTrue(reason.contains(w), "'\(reason)' should mention \(w)", line: line) }
            }
        }
        try expectFailure("no-config", config: nil, tensor: t, mentioning: ["adapter_config.json"])
        try expectFailure("lora", config: config(tokens: 5, dim: 8, type: "LORA"), tensor: t, mentioning: ["LORA", "PROMPT_TUNING"])
        try expectFailure("rows", config: config(tokens: 4, dim: 8), tensor: t, mentioning: ["5 rows", "num_virtual_tokens 4"])
        try expectFailure("subs", config: config(tokens: 5, dim: 8, submodules: 2), tensor: t, mentioning: ["= 10"])
        try expectFailure("width", config: config(tokens: 5, dim: 16), tensor: t, mentioning: ["token_dim 16"])
        try expectFailure("key", config: config(tokens: 5, dim: 8), tensor: t, key: "weight", mentioning: ["prompt_embeddings", "weight"])
        try expectFailure("no-weights", config: config(tokens: 5, dim: 8), tensor: nil, mentioning: ["missing"])
        try expectFailure("zero", config: config(tokens: 0, dim: 8), tensor: t, mentioning: ["num_virtual_tokens", "positive"])
        var noTokens = config(tokens: 5, dim: 8).objectValue!
        noTokens["num_virtual_tokens"] = nil
        try expectFailure("missing-tokens", config: .object(noTokens), tensor: t, mentioning: ["num_virtual_tokens is missing"])
        try expectFailure("1d", config: config(tokens: 40, dim: 8), tensor: Tensor(shape: [40], scalars: .init(repeating: 0, count: 40)),
                          mentioning: ["2-D"])
        let bin = tmp.url.appendingPathComponent("bin")
        try writeAdapter(bin, config: config(tokens: 5, dim: 8), tensor: nil)
        try Data([0x80, 0x02]).write(to: bin.appendingPathComponent("adapter_model.bin"))
        XCTAssertThrowsError(try PEFTAdapter.read(directory: bin)) { e in
            XCTAssertTrue((e as? StoreError)?.localizedDescription.contains("safetensors") == true, "\(e)")
        }
    }
}
