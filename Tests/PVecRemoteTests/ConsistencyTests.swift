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

    /// Valid safetensors of F32 tensors that are still not canonical, each written by hand:
    /// the header-only comparison must refuse them all, and take NaN payloads, -0 and
    /// subnormals as they are (they are data, copied bit for bit).
    func testNonCanonicalLayoutsAreRefusedWithoutDecodingTheData() throws {
        func file(_ header: String, data: [UInt8], pad: Bool = true) -> [UInt8] {
            var h = Array(header.utf8)
            while pad, h.count % 8 != 0 { h.append(UInt8(ascii: " ")) }
            return (0..<8).map { UInt8(truncatingIfNeeded: UInt64(h.count) >> (8 * UInt64($0))) } + h + data
        }
        let data = [UInt8](repeating: 0x3F, count: 16)
        let a = #""a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}"#, b = #""b":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}"#
        let canonical = file("{\(a),\(b)}", data: data)
        let x = Tensor(shape: [2], scalars: [Float](repeating: Float(bitPattern: 0x3F3F_3F3F), count: 2))
        XCTAssertEqual(canonical, Safetensors.encode(["a": x, "b": x]), "the hand-written file is what encode writes")
        XCTAssertNil(Registry.canonicalBlobProblem(canonical))
        let b2 = #""b":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}"#, a2 = #""a":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}"#
        let variants: [(String, [UInt8])] = [
            ("keys out of order", file("{\(b),\(a)}", data: data)),
            ("data not in key order", file("{\(a2),\(b2)}", data: data)),
            ("whitespace in the header", file("{ \(a),\(b)}", data: data)),
            ("header not padded", file("{\(a),\(b)}", data: data, pad: false)),
            ("shape [2,1] written [2, 1]", file(#"{"a":{"dtype":"F32","shape":[2, 1],"data_offsets":[0,8]}}"#, data: Array(data[0..<8]))),
            ("a byte after the data", file("{\(a),\(b)}", data: data + [0])),
        ]
        for (label, bytes) in variants {
            XCTAssertNotNil(Registry.canonicalBlobProblem(bytes), label)
        }
        // Odd scalars are data: canonical as encode writes them.
        let odd = Tensor(shape: [4], scalars: [Float(bitPattern: 0x7FC0_1234), -0.0, Float(bitPattern: 1), .infinity])
        XCTAssertNil(Registry.canonicalBlobProblem(Safetensors.canonical(odd)))
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
