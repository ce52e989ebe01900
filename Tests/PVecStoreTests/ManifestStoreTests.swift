import Foundation
import PVecTensor
import XCTest
@testable import PVecStore

final class ManifestStoreTests: XCTestCase {
    func testRoundTripAndIDStability() throws {
        let dir = try TempDir()
        let reg = try Registry.create(at: dir.url)
        let t = Fixtures.normal([4, 8], seed: 1)
        let blob = try reg.putBlob(t)
        let m = Manifest(kind: .prompt, blob: blob, shape: t.shape, backbone: Fixtures.backbone,
                         recipe: Recipe(op: "import", params: ["lr": .double(0.3), "file": "a.safetensors"]),
                         metrics: ["norm": .double(1.25)])
        let id = try reg.writeManifest(m)
        XCTAssertEqual(id, m.id)
        XCTAssertEqual(try reg.writeManifest(m), id, "idempotent")
        XCTAssertEqual(try reg.manifest(id), m)
        XCTAssertEqual(try reg.tensor(id), t)
        XCTAssertTrue(reg.hasArtifact(id))
        // The object holds exactly the canonical bytes, so its id is reproducible anywhere.
        XCTAssertEqual(try FileIO.readFile(reg.manifestObjects.url(for: id.hex)), m.canonicalBytes)
        // Re-parsing and re-encoding gives the same id; key order in the input does not matter.
        let reparsed = try Manifest(json: JSONValue.parse(Array(#"{"metrics":{"norm":1.25},"schema":1,"kind":"prompt","parents":[],"recipe":{"params":{"lr":0.3,"file":"a.safetensors"},"op":"import"},"blob":"\#(blob.hex)","shape":[4,8],"dtype":"F32","backbone":{"width":8,"model":"test/backbone"}}"#.utf8)))
        XCTAssertEqual(reparsed.id, id)
        XCTAssertEqual(try reg.list().map(\.id), [id])
        XCTAssertEqual(try reg.list().first?.shape, [4, 8])
        XCTAssertEqual(try reg.list().first?.backbone, Fixtures.backbone)
        XCTAssertEqual(try reg.list(kind: .vector).count, 0)
        XCTAssertEqual(try reg.list(backbone: "test/backbone").count, 1)
        XCTAssertEqual(try reg.list(backbone: "other").count, 0)
    }

    func testRefusesMissingBlobAndParents() throws {
        let dir = try TempDir()
        let reg = try Registry.create(at: dir.url)
        let ghost = BlobID(String(repeating: "a", count: 64))!
        let m = Manifest(kind: .prompt, blob: ghost, shape: [4, 8], backbone: nil, recipe: Recipe(op: "import"))
        XCTAssertStoreError(try reg.writeManifest(m)) {
            if case .missingObject(let id, _) = $0 { return id == ghost.hex } else { return false }
        }
        let real = try Fixtures.prompt(reg, seed: 1)
        let missingParent = ArtifactID(String(repeating: "b", count: 64))!
        let blob = try reg.putBlob(Fixtures.normal([4, 8], seed: 2))
        let child = Manifest(kind: .vector, blob: blob, shape: [4, 8], backbone: nil,
                             parents: [Parent(.tuned, real), Parent(.`init`, missingParent)], recipe: Recipe(op: "vector"))
        XCTAssertStoreError(try reg.writeManifest(child)) {
            if case .missingParent(let c, let p) = $0 { return c == child.id.hex && p == missingParent.hex } else { return false }
        }
        XCTAssertFalse(reg.hasArtifact(child.id))
        XCTAssertFalse(reg.manifestObjects.contains(child.id.hex), "nothing half-written")
        let bad = Manifest(kind: .prompt, blob: blob, shape: [32], backbone: nil, recipe: Recipe(op: "import"))
        XCTAssertStoreError(try reg.writeManifest(bad)) {
            if case .malformedManifest = $0 { return true } else { return false }
        }
    }

    func testEvaluationHasNoTensor() throws {
        let dir = try TempDir()
        let reg = try Registry.create(at: dir.url)
        let p = try Fixtures.prompt(reg, seed: 1)
        let e = try Fixtures.evaluation(reg, of: p, score: 0.75)
        XCTAssertEqual(try reg.manifest(e).metrics["accuracy"], .double(0.75))
        XCTAssertStoreError(try reg.tensor(e)) { $0 == .noTensor(e) }
    }

    func testCorruptManifestObjectIsNamed() throws {
        let dir = try TempDir()
        let reg = try Registry.create(at: dir.url)
        let id = try Fixtures.prompt(reg, seed: 3)
        let path = reg.manifestObjects.url(for: id.hex)
        var bytes = try FileIO.readFile(path)
        bytes[10] = UInt8(ascii: "X")
        try FileManager.default.removeItem(at: path)
        try Data(bytes).write(to: path)
        XCTAssertStoreError(try reg.manifest(id)) {
            if case .corruptObject(let oid, _, _) = $0 { return oid == id.hex } else { return false }
        }
        let problems = try reg.checkIntegrity()
        XCTAssertTrue(problems.contains { $0.kind == .corruptObject && $0.subject == id.hex }, "\(problems)")
    }
}
