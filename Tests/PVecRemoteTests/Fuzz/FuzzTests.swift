import Crypto
import Foundation
@testable import PVecRemote
@testable import PVecStore
import PVecTensor
import XCTest

/// Seeded-mutation fuzzing of every parser of untrusted bytes, from fixtures/fuzz/ (see
/// `FuzzCorpus` for the environment variables). A crash fails the run by killing the test
/// process; a refusal is fine; an accepted input must satisfy the target's invariants.
final class FuzzTests: XCTestCase {
    func testFuzzSafetensors() throws {
        try fuzz("safetensors", FuzzTargets.safetensors)
    }

    func testFuzzNPY() throws {
        try fuzz("npy", FuzzTargets.npy)
    }

    /// Every input, including lying length fields up to 2^64 - 1: decoding bounds its
    /// allocation by the stream present.
    func testFuzzPVB1Objects() throws {
        try fuzz("pvb1", FuzzTargets.pvb1)
    }

    /// Mutated bundles as they are, then with the trailing digest recomputed (a sender can
    /// always do that: the digest catches damage, not forgery), so that the index and entry
    /// checks behind it are reached too.
    func testFuzzBundles() throws {
        try fuzz("bundle", iterations: FuzzCorpus.iterations / 2, FuzzTargets.bundle)
        try fuzz("bundle", iterations: FuzzCorpus.iterations / 2) { bytes in
            guard bytes.count >= 52 else { return try FuzzTargets.bundle(bytes) }
            let body = bytes.count - 32
            try FuzzTargets.bundle(Array(bytes[..<body]) + Array(SHA256.hash(data: bytes[..<body])))
        }
    }

    func testFuzzManifestJSON() throws {
        try fuzz("manifest", FuzzTargets.manifest)
    }

    /// The config against good weights, then the weights against a good config. Each input
    /// is written to files (the reader takes a directory), so this one runs a tenth of the
    /// iterations.
    func testFuzzPEFTAdapter() throws {
        let dir = try TempDir()
        let config = PEFTAdapter.defaultConfig(rows: 4, width: 8, baseModel: nil).canonicalBytes
        try fuzz("peft", iterations: FuzzCorpus.iterations / 20) {
            _ = try FuzzTargets.readAdapter(config: $0, weights: FuzzTargets.adapterWeights, in: dir.url)
        }
        try fuzz("safetensors", iterations: FuzzCorpus.iterations / 20) {
            _ = try FuzzTargets.readAdapter(config: config, weights: $0, in: dir.url)
        }
    }

    /// Packs with lying lengths, cut records, unknown kinds and bad ids: refused, never a
    /// crash or an allocation past the input.
    func testFuzzPacks() throws {
        try fuzz("pack", FuzzTargets.pack)
    }

    func testFuzzServerRequestBodies() throws {
        let dir = try TempDir()
        let server = try FuzzTargets.server(in: dir.url)
        try fuzz("http") { try FuzzTargets.requestBody($0, server: server) }
    }

    // MARK: - Hostile shapes no random mutation finds

    /// 100,000 nested arrays or objects are refused by depth, not by overflowing the stack.
    func testDeepNestingIsRefusedNotRecursed() throws {
        let depth = 100_000
        let arrays = [UInt8](repeating: UInt8(ascii: "["), count: depth) + [UInt8](repeating: UInt8(ascii: "]"), count: depth)
        XCTAssertThrowsError(try JSONValue.parse(arrays)) { XCTAssertTrue("\($0)".contains("nested deeper than"), "\($0)") }
        let objects = Array(String(repeating: #"{"a":"#, count: depth).utf8) + [UInt8(ascii: "1")]
            + [UInt8](repeating: UInt8(ascii: "}"), count: depth)
        XCTAssertThrowsError(try JSONValue.parse(objects))
        XCTAssertThrowsError(try Registry.incomingManifest(objects))
        // As the body of a request, a safetensors header and a bundle index.
        let server = try FuzzTargets.server(in: try TempDir().url)
        XCTAssertThrowsError(try FuzzTargets.requestBody(Array(#"{"ids":"#.utf8) + arrays + [UInt8(ascii: "}")], server: server))
        let header = Array(#"{"a":"#.utf8) + arrays + [UInt8(ascii: "}")]
        XCTAssertThrowsError(try SafetensorsFile(bytes: FuzzCorpusWriterTests.safetensors(String(decoding: header, as: UTF8.self), data: [])))
        var bundle = Array("PVECBNDL".utf8) + [1, 0, 0, 0]
        bundle += (0..<8).map { UInt8(truncatingIfNeeded: UInt64(arrays.count) >> (8 * UInt64($0))) } + arrays
        bundle += [UInt8](repeating: 0, count: 32)
        XCTAssertThrowsError(try PromptBundle.parse(bundle, path: "deep.pvb"))
        // The default depth is enough for any manifest, and a caller may ask for more.
        let sixty = Array(String(repeating: "[", count: 60).utf8) + Array(String(repeating: "]", count: 60).utf8)
        XCTAssertNoThrow(try JSONValue.parse(sixty))
        XCTAssertThrowsError(try JSONValue.parse(sixty, maxDepth: 59))
    }

    /// A manifest may not declare a shape whose element count overflows (it used to trap in
    /// `Shape.count` wherever the shape was used).
    func testManifestShapeIsBounded() throws {
        let blob = String(repeating: "a", count: 64)
        for shape in ["[4294967296,4294967296]", "[2147483648]", "[1099511627776]", "[65536,65536,65536]"] {
            let text = #"{"blob":"\#(blob)","dtype":"F32","kind":"module","metrics":{},"parents":[],"recipe":{"op":"x"},"schema":1,"shape":\#(shape)}"#
            XCTAssertThrowsError(try Manifest(json: JSONValue.parse(Array(text.utf8))), shape) {
                XCTAssertTrue("\($0)".contains("shape is too large"), "\($0)")
            }
        }
    }

    /// JSON the old decoder accepted still parses to the same canonical bytes.
    func testJSONParserKeepsCanonicalForms() throws {
        let cases: [(String, String)] = [
            (#" {"b": [1, 2.5, -0, 1e2, 1.0, 12345678901234567890], "a": "\u00e9\n"} "#,
             #"{"a":"é\n","b":[1,2.5,0,100,1,1.2345678901234567e+19]}"#),
            (#"[true,false,null,"\ud83d\ude00","\/"]"#, #"[true,false,null,"😀","/"]"#),
            (#"1e-05"#, #"1e-05"#),
            (#"-9223372036854775808"#, #"-9223372036854775808"#),
        ]
        for (input, canonical) in cases {
            XCTAssertEqual(try JSONValue.parse(Array(input.utf8)).canonicalString, canonical, input)
        }
        for bad in ["", "01", "1.", ".5", "+1", "1e", "[1,]", "{\"a\":1,}", "{\"a\":1,\"a\":2}", "\"\\ud800\"", "\"\u{01}\"",
                    "nul", "[1] x", "1e400", "\"\\x\"", "{1:2}", "'a'"] {
            XCTAssertThrowsError(try JSONValue.parse(Array(bad.utf8)), bad)
        }
        XCTAssertThrowsError(try JSONValue.parse([0x22, 0xFF, 0x22]), "invalid UTF-8")
    }
}
