import Foundation
import PVecRemote
import PVecStore
import PVecTensor
import XCTest

/// The checks the server, pull and bundle import (and later `pvec verify`) share.
final class ConsistencyTests: XCTestCase {
    func testManifestMustAgreeWithItsBlob() throws {
        let t = Fixtures.tensor(seed: 1)
        let raw = Safetensors.canonical(t)
        let blob = BlobID(Digest.sha256Hex(raw))!
        let good = Manifest(kind: .prompt, blob: blob, shape: [4, 8], backbone: Fixtures.backbone, recipe: Recipe(op: "import"))
        XCTAssertNil(good.blobDisagreement(raw))
        XCTAssertNil(Registry.canonicalBlobProblem(raw))
        var wrongShape = good
        wrongShape.shape = [2, 16]
        XCTAssertTrue(wrongShape.blobDisagreement(raw)?.contains("shape") ?? false)
        // A blob holding F16 is not canonical, and a manifest saying F32 disagrees with it.
        let half = Safetensors.encode(["tensor": t], dtype: .f16)
        XCTAssertNotNil(Registry.canonicalBlobProblem(half))
        XCTAssertTrue(good.blobDisagreement(half)?.contains("F16") ?? false)
        // A prompt's blob holds only "tensor".
        let extra = Safetensors.encode(["tensor": t, "other": t])
        XCTAssertNil(Registry.canonicalBlobProblem(extra))
        XCTAssertTrue(good.blobDisagreement(extra)?.contains("only") ?? false)
        XCTAssertThrowsError(try Registry.checkManifest(wrongShape, id: wrongShape.id, againstBlob: raw))
    }

    func testEveryManifestSharingABlobIsCheckedOnItsOwn() throws {
        let dir = try TempDir()
        let reg = try Registry.create(at: dir.url)
        let id = try Fixtures.prompt(reg, seed: 3)
        try reg.checkManifestAgainstBlob(id)
        var liar = try reg.manifest(id)
        liar.shape = [8, 4]
        liar.backbone = nil
        XCTAssertThrowsError(try reg.checkManifestAgainstBlob(liar, id: liar.id)) {
            XCTAssertTrue($0.localizedDescription.contains("disagrees"), $0.localizedDescription)
        }
    }

    func testJSONDepthAndElementLimits() throws {
        let deep = Array((String(repeating: "[", count: 200) + String(repeating: "]", count: 200)).utf8)
        XCTAssertThrowsError(try JSONValue.parse(deep)) { XCTAssertTrue($0 is JSONValue.ParseError, "\($0)") }
        XCTAssertThrowsError(try JSONValue.parse(deep, maxElements: 1000)) { XCTAssertEqual($0 as? JSONValue.LimitError, .tooDeep(limit: 128)) }
        XCTAssertNoThrow(try JSONValue.parse(deep, maxDepth: 200))
        // Brackets inside strings do not count.
        XCTAssertEqual(try JSONValue.parse(Array(#"{"a":"[[[[,,,,"}"#.utf8), maxDepth: 1, maxElements: 1), ["a": "[[[[,,,,"])
        XCTAssertThrowsError(try JSONValue.parse(Array("[1,2,3,4]".utf8), maxElements: 3))
        let m = Manifest(kind: .vector, blob: BlobID(String(repeating: "a", count: 64)), shape: [4, 8], backbone: Fixtures.backbone,
                         parents: [Parent(.operand, ArtifactID(String(repeating: "c", count: 64))!)],
                         recipe: Recipe(op: "add", params: ["lambda": .double(0.5), "nested": ["a": [1, 2, ["b": "[{,"]]]]),
                         metrics: ["norm": .double(1e-5)])
        XCTAssertEqual(try Manifest(json: JSONValue.parse(m.canonicalBytes)), m, "valid input parses as before")
    }

    func testScopeGrammar() throws {
        XCTAssertTrue(try TokenScope(parsing: "write:team-a").allowsWriting("team-a/x"))
        XCTAssertTrue(try TokenScope(parsing: "write:team-a").allowsWriting("team-a"))
        XCTAssertFalse(try TokenScope(parsing: "write:team-a").allowsWriting("team-ab/x"))
        XCTAssertFalse(try TokenScope(parsing: "write:team-a/").allowsWriting("team-a"))
        XCTAssertTrue(try TokenScope(parsing: "write:*").allowsWriting("anything"))
        XCTAssertFalse(try TokenScope(parsing: "read").allowsWriting("x"))
        for bad in ["write:", "write:a*", "Read", "write:team-a//", "write:/x", "write: x"] {
            XCTAssertThrowsError(try TokenScope(parsing: bad), bad)
        }
    }

    func testExpiryParsing() throws {
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        XCTAssertEqual(try TokenExpiry.parse("30d", now: now), now.addingTimeInterval(30 * 86_400))
        XCTAssertEqual(try TokenExpiry.parse("12h", now: now), now.addingTimeInterval(12 * 3600))
        XCTAssertEqual(try TokenExpiry.parse("2030-01-01T00:00:00Z", now: now).timeIntervalSince1970, 1_893_456_000)
        XCTAssertEqual(try TokenExpiry.parse("2030-01-01", now: now).timeIntervalSince1970, 1_893_456_000)
        for bad in ["", "d", "0d", "-1d", "1y", "2020-01-01", "99999999999999999999d", "tomorrow"] {
            XCTAssertThrowsError(try TokenExpiry.parse(bad, now: now), bad)
        }
    }
}
