import Foundation
@testable import PVecRemote
@testable import PVecStore
import PVecTensor

/// What each fuzz test does with one input: the parser call the product makes, then the
/// invariants an accepted input must satisfy. Refusals are thrown errors.
enum FuzzTargets {
    // MARK: - safetensors

    static func safetensors(_ bytes: [UInt8]) throws {
        let file = try SafetensorsFile(bytes: bytes)
        var decoded: [String: Tensor] = [:]
        var unique = true
        for e in file.entries {
            try require(e.offsets.count == e.shape.count * e.dtype.size, "entry \(e.name) spans \(e.offsets.count) bytes for \(e.dtype) \(e.shape)")
            guard e.dtype.isFloat, e.dtype.size >= 2 else { continue }
            let t = try file.tensor(e.name)
            try require(t.count == e.shape.count && t.shape == e.shape, "tensor \(e.name) has \(t.count) scalars for shape \(e.shape)")
            if decoded.updateValue(t, forKey: e.name) != nil { unique = false }
        }
        // Re-encoding what was read gives bytes that parse again to the same tensors.
        guard unique, !decoded.isEmpty, !decoded.keys.contains("__metadata__") else { return }
        let again = try SafetensorsFile(bytes: Safetensors.encode(decoded, metadata: file.metadata))
        try require(Set(again.keys) == Set(decoded.keys), "re-encoded keys differ")
        for (k, t) in decoded {
            let u = try again.tensor(k)
            try require(u.shape == t.shape && u.scalars.map(\.bitPattern) == t.scalars.map(\.bitPattern), "re-encoded \(k) differs")
        }
        // The canonical encoding is a fixed point.
        let canonical = Safetensors.encode(decoded)
        try require(Safetensors.encode(try Self.tensors(SafetensorsFile(bytes: canonical))) == canonical, "canonical encoding is not stable")
    }

    static func tensors(_ f: SafetensorsFile) throws -> [String: Tensor] {
        var out: [String: Tensor] = [:]
        for k in f.keys { out[k] = try f.tensor(k) }
        return out
    }

    // MARK: - .npy

    static func npy(_ bytes: [UInt8]) throws {
        let t = try NPY.decode(bytes)
        let h = try NPY.header(of: bytes)
        try require(t.shape == h.shape && t.count == h.shape.count, ".npy tensor has \(t.count) scalars for shape \(h.shape)")
        try require(h.dataOffset + h.shape.count * h.dtype.size == bytes.count, ".npy data size disagrees with the header")
        let again = try NPY.decode(NPY.encode(t))
        try require(again.shape == t.shape && again.scalars.map(\.bitPattern) == t.scalars.map(\.bitPattern), ".npy re-encode differs")
    }

    // MARK: - PVB1 blob objects

    static func pvb1(_ bytes: [UInt8]) throws {
        let raw = try BlobEncoding.decode(bytes)
        let shuffled = try BlobEncoding.isShuffled(bytes).unwrap("decoded an object without a PVB1 header")
        var n: UInt64 = 0
        for i in 0..<8 { n |= UInt64(bytes[5 + i]) << (8 * UInt64(i)) }
        try require(UInt64(raw.count) == n, "decoded \(raw.count) bytes, header says \(n)")
        try require(try BlobEncoding.decode(BlobEncoding.encode(raw, shuffle: shuffled)) == raw, "re-encoding changes the bytes")
        // What the store does next with decoded bytes.
        if let file = try? SafetensorsFile(bytes: raw) { try safetensors(raw); _ = file }
    }

    // MARK: - Bundles

    static func bundle(_ bytes: [UInt8]) throws {
        let c = try PromptBundle.parse(bytes, path: "fuzz.pvb")
        for b in c.blobs {
            try require(Digest.sha256Hex(try Registry.checkEncodedBlob(b.bytes, as: b.id)) == b.id.hex, "blob \(b.id.short) does not hash to its id")
        }
        for m in c.manifests {
            let (id, manifest) = try Registry.incomingManifest(m.bytes, as: m.id)
            try require(id == m.id && manifest.canonicalBytes == m.bytes, "manifest \(m.id.short) is not canonical")
        }
        for s in c.signatures { try require(s.isValid, "an accepted signature does not verify") }
    }

    // MARK: - JSON and manifests

    static func manifest(_ bytes: [UInt8]) throws {
        let v = try JSONValue.parse(bytes)
        try require(try JSONValue.parse(v.canonicalBytes) == v, "canonical JSON does not parse back to the same value")
        try require(v.canonicalBytes == JSONValue.parse(v.canonicalBytes).canonicalBytes, "canonical JSON is not stable")
        let m = try Manifest(json: v)
        if let s = m.shape { _ = (s.count, s.rows, s.width, s.description) }
        try require(try Manifest(json: JSONValue.parse(m.canonicalBytes)) == m, "a manifest does not survive its canonical form")
        if let (id, again) = try? Registry.incomingManifest(bytes) {
            try require(again == m && id == m.id, "incomingManifest disagrees with Manifest(json:)")
        }
    }

    // MARK: - PEFT adapters

    /// prompt_embeddings [4, 8] as PEFT writes it.
    static let adapterWeights = Safetensors.encode([PEFTAdapter.tensorKey: Fixtures.tensor(seed: 5, rows: 4)], metadata: ["format": "pt"])

    static func readAdapter(config: [UInt8], weights: [UInt8], in dir: URL) throws -> PEFTAdapter.Contents {
        try Data(config).write(to: dir.appendingPathComponent(PEFTAdapter.configFile))
        try Data(weights).write(to: dir.appendingPathComponent(PEFTAdapter.weightsFile))
        let a = try PEFTAdapter.read(directory: dir)
        let c = a.config
        let tokens = try (c["num_virtual_tokens"]?.intValue).unwrap("accepted without num_virtual_tokens")
        let sub = c["num_transformer_submodules"]?.intValue ?? (c["task_type"]?.stringValue == "SEQ_2_SEQ_LM" ? 2 : 1)
        try require(a.tensor.shape.rank == 2 && Int64(a.tensor.shape.rows) == tokens * sub, "adapter rows \(a.tensor.shape) disagree with the config")
        try require(a.tensor.count == a.tensor.shape.count, "adapter tensor count")
        return a
    }

    // MARK: - Packs

    /// A pack that reads is exactly its own encoding (no slack a sender could hide bytes in),
    /// every record stays within the input, and the blob checks run on what it holds.
    static func pack(_ bytes: [UInt8]) throws {
        let pack = try ObjectPack.decode(bytes, maxEntries: 64)
        try require(pack.encoded() == bytes, "a pack re-encodes to other bytes")
        try require(pack.entries.count <= 64, "more entries than the limit")
        for (id, encoded) in pack.blobs { _ = try? Registry.checkEncodedBlob(encoded, as: id) }
        for (id, m) in pack.manifests { _ = try? Registry.incomingManifest(m, as: id) }
    }

    // MARK: - Server request bodies

    static func server(in dir: URL) throws -> RegistryServer {
        let root = dir.appendingPathComponent("server-registry")
        let reg = try (try? Registry.open(at: root)) ?? Registry.create(at: root)
        var limits = RegistryServer.Limits()
        limits.idsPerRequest = 64
        return RegistryServer(registry: reg, limits: limits)
    }

    /// What the JSON routes do with a body before touching storage: `jsonBody`'s parse and
    /// object check, `idList` for closure and missing, the field checks of refs and
    /// signatures (with signature verification), and the name check of every name.
    static func requestBody(_ bytes: [UInt8], server: RegistryServer) throws {
        guard bytes.count <= server.limits.jsonBytes else { return }
        let body = try JSONValue.parse(bytes)
        guard case .object = body else { throw Refused() }
        var ids: [String] = []
        for field in ["ids", "manifests", "blobs"] where body[field] != nil {
            if let list = try? server.idList(body[field], artifact: field != "blobs") {
                try require(list.count <= server.limits.idsPerRequest, "idList passed more ids than the limit")
                for s in list { try require(ArtifactID(s) != nil, "idList passed '\(s.prefix(70))'") }
                ids += list
            }
        }
        for n in body["names"]?.arrayValue ?? [] { if let s = n.stringValue { _ = try? RefName.validate(s) } }
        if let name = body["name"]?.stringValue, let id = body["id"]?.stringValue.flatMap(ArtifactID.init) {
            _ = try? RefName.validate(name)
            _ = id
        }
        for s in body["signatures"]?.arrayValue ?? [] {
            guard let a = s["artifact"]?.stringValue.flatMap(ArtifactID.init), let key = s["key"]?.stringValue,
                  let sig = s["signature"]?.stringValue else { continue }
            _ = ArtifactSignature(artifact: a, key: key, signature: sig, signer: s["signer"]?.stringValue).isValid
        }
        // Error answers are canonical JSON of whatever the client sent.
        _ = JSONValue.object(["error": .string(String(body.canonicalString.prefix(200)))]).canonicalBytes
    }
}

/// An input the product refuses (the server would answer 400).
struct Refused: Error {}

extension Optional {
    func unwrap(_ message: String) throws -> Wrapped {
        guard let self else { throw InvariantViolation(message) }
        return self
    }
}
