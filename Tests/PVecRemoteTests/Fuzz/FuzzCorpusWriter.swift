import Crypto
import Foundation
@testable import PVecRemote
@testable import PVecStore
import PVecTensor
import XCTest

/// Writes fixtures/fuzz/ with pvec's own encoders (`scripts/make_fuzz_corpus.sh`), and checks
/// that the committed valid seeds still parse, so a format change cannot quietly turn the
/// corpus into inputs that never get past the first check.
final class FuzzCorpusWriterTests: XCTestCase {
    func testWriteCorpus() throws {
        guard ProcessInfo.processInfo.environment["PVEC_WRITE_FUZZ_CORPUS"] == "1" else {
            throw XCTSkip("set PVEC_WRITE_FUZZ_CORPUS=1 to rewrite fixtures/fuzz (scripts/make_fuzz_corpus.sh)")
        }
        try? FileManager.default.removeItem(at: FuzzCorpus.root)
        for (parser, files) in try Self.corpus() {
            let dir = FuzzCorpus.root.appendingPathComponent(parser)
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            for (name, bytes) in files { try Data(bytes).write(to: dir.appendingPathComponent(name)) }
        }
    }

    /// Every seed not named `edge-*` is accepted by its parser.
    func testValidSeedsParse() throws {
        for (name, bytes) in try FuzzCorpus.load("safetensors") where !name.hasPrefix("edge-") {
            let f = try SafetensorsFile(bytes: bytes)
            for k in f.keys where f.entries.first(where: { $0.name == k })!.dtype.isFloat { _ = try f.tensor(k) }
        }
        for (name, bytes) in try FuzzCorpus.load("npy") where !name.hasPrefix("edge-") { _ = try NPY.decode(bytes) }
        for (name, bytes) in try FuzzCorpus.load("pvb1") where !name.hasPrefix("edge-") {
            _ = try SafetensorsFile(bytes: try BlobEncoding.decode(bytes))
        }
        for (name, bytes) in try FuzzCorpus.load("bundle") where !name.hasPrefix("edge-") {
            _ = try PromptBundle.parse(bytes, path: name)
        }
        for (name, bytes) in try FuzzCorpus.load("manifest") where !name.hasPrefix("edge-") {
            _ = try Registry.incomingManifest(bytes)
        }
        let dir = try TempDir()
        for (name, bytes) in try FuzzCorpus.load("peft") where !name.hasPrefix("edge-") {
            _ = try FuzzTargets.readAdapter(config: bytes, weights: FuzzTargets.adapterWeights, in: dir.url)
            _ = name
        }
        for (name, bytes) in try FuzzCorpus.load("pack") where !name.hasPrefix("edge-") {
            XCTAssertEqual(try ObjectPack.decode(bytes, maxEntries: 64).encoded(), bytes, name)
        }
        let server = try FuzzTargets.server(in: dir.url)
        for (name, bytes) in try FuzzCorpus.load("http") where !name.hasPrefix("edge-") {
            try FuzzTargets.requestBody(bytes, server: server)
            _ = name
        }
    }

    // MARK: - The corpus

    static func corpus() throws -> [(String, [(String, [UInt8])])] {
        let a = Tensor(shape: [2, 3], scalars: [0, 1, -1.5, 0.25, 1e-8, -0.0])
        let p = Fixtures.tensor(seed: 5, rows: 4)
        var out: [(String, [(String, [UInt8])])] = []

        // safetensors
        var st: [(String, [UInt8])] = [
            ("f32-2x3.safetensors", Safetensors.canonical(a)),
            ("f16-bf16-meta.safetensors", Safetensors.encode(["h": a], dtype: .f16, metadata: ["format": "pt", "é\u{1B}": "x"])),
            ("bf16.safetensors", Safetensors.encode(["a": a, "b": Tensor(shape: [3], scalars: [1, 2, 3])], dtype: .bf16)),
            ("f64-scalar.safetensors", Safetensors.encode(["s": Tensor(shape: [], scalars: [2.5])], dtype: .f64)),
            ("zero-rows.safetensors", Safetensors.canonical(Tensor(zeros: [0, 4]))),
            ("peft-prompt.safetensors", Safetensors.encode([PEFTAdapter.tensorKey: p], metadata: ["format": "pt"])),
        ]
        st.append(("i32.safetensors", safetensors(#"{"i":{"dtype":"I32","shape":[2],"data_offsets":[0,8]}}"#, data: [1, 0, 0, 0, 2, 0, 0, 0])))
        st.append(("edge-huge-header.safetensors", [0, 0, 0, 0, 0, 1, 0, 0] + Array("{}".utf8)))
        st.append(("edge-hole.safetensors", safetensors(#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#, data: [UInt8](repeating: 0, count: 8))))
        st.append(("edge-overlap.safetensors", safetensors(
            #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#,
            data: [UInt8](repeating: 0, count: 8))))
        st.append(("edge-deep.safetensors", safetensors(#"{"__metadata__":{"a":"b"},"x":{"dtype":"F32","shape":[[[[1]]]],"data_offsets":[0,4]}}"#, data: [0, 0, 0, 0])))
        out.append(("safetensors", st))

        // npy
        var npy: [(String, [UInt8])] = [
            ("f4-2x3.npy", NPY.encode(a)),
            ("f2-vector.npy", try NPY.encode(Tensor(shape: [5], scalars: [1, 2, 3, 4, 65504]), dtype: .f16)),
            ("f8-scalar.npy", try NPY.encode(Tensor(shape: [], scalars: [3]), dtype: .f64)),
            ("empty-0x4.npy", NPY.encode(Tensor(zeros: [0, 4]))),
        ]
        npy.append(("big-endian-f4.npy", npyFile("{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }", data: [0x3F, 0x80, 0, 0, 0x40, 0, 0, 0])))
        npy.append(("v2-python2-longs.npy", npyFile("{\"descr\": \"<f4\", \"fortran_order\": False, \"shape\": (1L, 2L)}", data: [UInt8](repeating: 0, count: 8), major: 2)))
        npy.append(("v3.npy", npyFile("{'descr': '<f8', 'fortran_order': False, 'shape': (1,), }", data: [0, 0, 0, 0, 0, 0, 0xF0, 0x3F], major: 3)))
        npy.append(("edge-v3-trailing-utf8.npy", npyFile("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }  é", data: [0, 0, 0, 0], major: 3)))
        npy.append(("edge-fortran.npy", npyFile("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 1), }", data: [UInt8](repeating: 0, count: 8))))
        npy.append(("edge-i4.npy", npyFile("{'descr': '<i4', 'fortran_order': False, 'shape': (1,), }", data: [1, 0, 0, 0])))
        npy.append(("edge-nested.npy", npyFile("{'descr': [('a', '<f4'), ('b', [1, (2,), {'c': None}])], 'fortran_order': False, 'shape': (1,), }", data: [0, 0, 0, 0])))
        out.append(("npy", npy))

        // PVB1 blob objects
        let raw = Safetensors.canonical(a), rawP = Safetensors.canonical(p)
        var shuffledBad = BlobEncoding.encode(raw, shuffle: true)
        shuffledBad[4] = 0x03
        out.append(("pvb1", [
            ("plain-2x3.pvb1", BlobEncoding.encode(raw, shuffle: false)),
            ("shuffled-2x3.pvb1", BlobEncoding.encode(raw, shuffle: true)),
            ("fast-4x8.pvb1", BlobEncoding.encodeFast(rawP)),
            ("plain-zero-rows.pvb1", BlobEncoding.encode(Safetensors.canonical(Tensor(zeros: [0, 4])), shuffle: false)),
            ("edge-flags.pvb1", shuffledBad),
        ]))

        // Bundles, manifests and request bodies from a small registry.
        let dir = try TempDir()
        let reg = try Registry.create(at: dir.url)
        let l = try Fixtures.lineage(reg, seed: 10)
        try reg.updateRef("mnli-tau", to: l.vector, command: "fuzz corpus")
        try reg.updateRef("mnli-init", to: l.initID, command: "fuzz corpus")
        let key = try Curve25519.Signing.PrivateKey(rawRepresentation: [UInt8](repeating: 7, count: 32))
        let sig = try ArtifactSignature.sign(l.vector, with: key, signer: "team-a")
        try reg.addSignature(sig, name: "mnli-tau", command: "fuzz corpus")
        let full = dir.url.appendingPathComponent("full.pvb"), small = dir.url.appendingPathComponent("small.pvb")
        _ = try PromptBundle.create(from: reg, names: ["mnli-tau"], to: full)
        _ = try PromptBundle.create(from: reg, names: ["mnli-init"], to: small)
        let fullBytes = Array(try Data(contentsOf: full))
        out.append(("bundle", [
            ("lineage-signed.pvb", fullBytes),
            ("init-only.pvb", Array(try Data(contentsOf: small))),
            ("edge-truncated.pvb", Array(fullBytes.prefix(300))),
        ]))

        var manifests: [(String, [UInt8])] = []
        for (name, id) in [("init", l.initID), ("prompt", l.prompt), ("vector", l.vector), ("evaluation", l.eval)] {
            manifests.append(("\(name).json", try reg.manifestBytes(id)))
        }
        let rich = Manifest(kind: .module, blob: try reg.putBlob(a), shape: a.shape, backbone: Fixtures.backbone,
                            parents: [Parent(.source, l.prompt)],
                            recipe: Recipe(op: "attempt", params: ["lr": 0.3, "nested": ["a": [1, [2.5, ["x": .null]]]], "s": "é\"\\ ☃"]),
                            metrics: ["loss": .double(1e-05), "big": .double(-2.5e300), "n": 12])
        manifests.append(("module-rich.json", rich.canonicalBytes))
        manifests.append(("edge-whitespace.json", Array(" { \"schema\" : 1 , \"kind\":\"evaluation\",\"parents\":[],\"recipe\":{\"op\":\"eval\"},\"metrics\":{\"a\":1.0}} ".utf8)))
        manifests.append(("edge-escapes.json", Array(#"{"kind":"evaluation","metrics":{"\u00e9\ud83d\ude00":-0.0,"e":1E+2},"parents":[],"recipe":{"op":"e\/v"},"schema":1}"#.utf8)))
        out.append(("manifest", manifests))

        // PEFT adapter configs as PEFT's json.dump writes them (indent 2, spaces).
        let pretty = try JSONSerialization.data(withJSONObject: [
            "peft_type": "PROMPT_TUNING", "task_type": "SEQ_2_SEQ_LM", "num_virtual_tokens": 2, "token_dim": 8,
            "num_transformer_submodules": 2, "base_model_name_or_path": "t5-small", "inference_mode": true,
            "prompt_tuning_init_text": NSNull(), "tokenizer_kwargs": ["a": [1, 2]],
        ] as [String: Any], options: [.prettyPrinted, .sortedKeys])
        out.append(("peft", [
            ("default.json", PEFTAdapter.defaultConfig(rows: 4, width: 8, baseModel: "test/backbone").canonicalBytes),
            ("seq2seq-pretty.json", Array(pretty)),
            ("minimal.json", Array(#"{"peft_type": "PROMPT_TUNING", "num_virtual_tokens": 4}"#.utf8)),
            ("edge-lora.json", Array(#"{"peft_type": "LORA", "num_virtual_tokens": 4, "r": 8}"#.utf8)),
        ]))

        // Request bodies of POST /v1/closure, /v1/missing, /v1/signatures, /v1/refs.
        func body(_ v: JSONValue) -> [UInt8] { v.canonicalBytes }
        let ids: JSONValue = .array([l.vector, l.prompt].map { .string($0.hex) })
        let blob = try XCTUnwrap(try reg.manifest(l.vector).blob)
        out.append(("http", [
            ("closure.json", body(["ids": ids])),
            ("missing.json", body(["manifests": ids, "blobs": [.string(blob.hex)], "names": ["team-a/mnli-tau", "b"]])),
            ("signatures.json", body(["signatures": [PromptBundle.signatureJSON(sig)]])),
            ("refs-new.json", body(["name": "team-a/mnli-tau", "id": .string(l.vector.hex), "expected": .null])),
            ("refs-cas.json", body(["name": "mnli-tau", "id": .string(l.prompt.hex), "expected": .string(l.vector.hex)])),
            ("edge-not-object.json", Array("[1,2,3]".utf8)),
        ]))

        // Packs (POST /v1/pack bodies and /v1/objects answers): a lineage's objects, parents first.
        var entries: [ObjectPack.Entry] = []
        for id in [l.initID, l.prompt, l.vector] {
            let m = try reg.manifest(id)
            if let b = m.blob { entries.append(.blob(b, try reg.encodedBlob(b))) }
            entries.append(.manifest(id, try reg.manifestBytes(id)))
        }
        let lineagePack = ObjectPack(entries).encoded()
        out.append(("pack", [
            ("lineage.pack", lineagePack),
            ("empty.pack", ObjectPack().encoded()),
            ("edge-truncated.pack", Array(lineagePack.prefix(lineagePack.count - 7))),
        ]))
        return out
    }

    /// A safetensors file with this header (padded to 8 bytes) and data.
    static func safetensors(_ header: String, data: [UInt8]) -> [UInt8] {
        var h = Array(header.utf8)
        while h.count % 8 != 0 { h.append(0x20) }
        let n = UInt64(h.count)
        return (0..<8).map { UInt8(truncatingIfNeeded: n >> (8 * UInt64($0))) } + h + data
    }

    /// A .npy file with this header text.
    static func npyFile(_ text: String, data: [UInt8], major: UInt8 = 1) -> [UInt8] {
        let h = Array(text.utf8) + [0x0A]
        let len: [UInt8] = major == 1 ? [UInt8(h.count & 0xFF), UInt8(h.count >> 8)]
            : [UInt8(h.count & 0xFF), UInt8(h.count >> 8), 0, 0]
        return [0x93] + Array("NUMPY".utf8) + [major, 0] + len + h + data
    }
}
