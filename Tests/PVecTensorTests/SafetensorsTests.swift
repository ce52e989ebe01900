import Foundation
import XCTest
@testable import PVecTensor

final class SafetensorsTests: XCTestCase {
    // MARK: - Round trips

    func testRoundTripEveryWriteDType() throws {
        // Values exact in F16 and BF16 too, so every dtype must return them unchanged.
        let a = Tensor(shape: [2, 3], scalars: [0, -0.5, 1.25, -3, 96, 0.0078125])
        let b = Tensor(shape: [4], scalars: [1, 2, 3, -4])
        for dtype in [DType.f32, .f16, .bf16, .f64] {
            let bytes = SafetensorsFile.encode(["a": a, "b": b], dtype: dtype)
            let file = try SafetensorsFile(bytes: bytes)
            XCTAssertEqual(file.keys, ["a", "b"], "\(dtype)")
            XCTAssertEqual(file.entries.map(\.dtype), [dtype, dtype])
            XCTAssertEqual(try file.tensor("a"), a, "\(dtype)")
            XCTAssertEqual(try file.tensor("b"), b, "\(dtype)")
            XCTAssertNil(file.metadata)
        }
    }

    func testRoundTripF32KeepsEveryBit() throws {
        var g = SplitMix64(seed: 5)
        let t = Tensor(shape: [7, 9], scalars: (0..<63).map { _ in Float(bitPattern: UInt32(truncatingIfNeeded: g.next())) })
        let back = try SafetensorsFile(bytes: SafetensorsFile.canonical(t)).tensor("tensor")
        XCTAssertEqual(back.shape, t.shape)
        assertSameBits(back.scalars, t.scalars)
    }

    func testRoundTripRoundsF16AndBF16ToNearest() throws {
        let t = Tensor(shape: [3], scalars: [0.1, 1.0 / 3.0, 70000])
        let h = try SafetensorsFile(bytes: SafetensorsFile.encode(["x": t], dtype: .f16)).tensor("x")
        XCTAssertEqual(h.scalars, [0.0999755859375, 0.333251953125, .infinity])
        let b = try SafetensorsFile(bytes: SafetensorsFile.encode(["x": t], dtype: .bf16)).tensor("x")
        XCTAssertEqual(b.scalars, [0.10009765625, 0.333984375, 70144])
    }

    func testMetadataRoundTrip() throws {
        let bytes = SafetensorsFile.encode(["x": Tensor(zeros: [2])], metadata: ["format": "pt", "q\"uote": "line\nbreak"])
        let file = try SafetensorsFile(bytes: bytes)
        XCTAssertEqual(file.metadata, ["format": "pt", "q\"uote": "line\nbreak"])
        XCTAssertEqual(file.keys, ["x"])
    }

    // MARK: - Canonical encoding

    func testCanonicalEncodingIsIndependentOfInsertionOrder() {
        let names = ["zeta", "alpha", "mid", "b", "a"]
        var g = SplitMix64(seed: 1)
        let tensors = names.map { _ in Tensor(shape: [2, 2], scalars: (0..<4).map { _ in g.nextFloat01() }) }
        var forward: [String: Tensor] = [:]
        for (n, t) in zip(names, tensors) { forward[n] = t }
        var backward: [String: Tensor] = [:]
        for (n, t) in zip(names, tensors).reversed() { backward[n] = t }
        // Dictionaries with different histories (and a larger capacity) iterate differently.
        var grown: [String: Tensor] = Dictionary(minimumCapacity: 64)
        for (n, t) in zip(names.shuffled(), tensors.shuffled()) { grown[n] = t }
        for (n, t) in zip(names, tensors) { grown[n] = t }
        let expected = SafetensorsFile.encode(forward)
        XCTAssertEqual(SafetensorsFile.encode(backward), expected)
        XCTAssertEqual(SafetensorsFile.encode(grown), expected)
    }

    func testCanonicalHeaderIsAlignedAndExact() throws {
        let t = Tensor(shape: [1, 3], scalars: [1, 2, 3])
        let bytes = SafetensorsFile.canonical(t)
        var n = 0
        for i in 0..<8 { n |= Int(bytes[i]) << (8 * i) }
        XCTAssertEqual(n % 8, 0, "header length must keep the data 8-byte aligned")
        XCTAssertEqual(bytes.count, 8 + n + 12)
        let header = String(decoding: bytes[8..<(8 + n)], as: UTF8.self)
        XCTAssertEqual(header.trimmingCharacters(in: .whitespaces),
                       #"{"tensor":{"dtype":"F32","shape":[1,3],"data_offsets":[0,12]}}"#)
        XCTAssertEqual(Array(bytes[(8 + n)...]), [0, 0, 0x80, 0x3F, 0, 0, 0, 0x40, 0, 0, 0x40, 0x40])
        // Same tensor, same bytes, same digest.
        XCTAssertEqual(Digest.sha256Hex(SafetensorsFile.canonical(t)), Digest.sha256Hex(bytes))
        XCTAssertNotEqual(Digest.sha256Hex(SafetensorsFile.canonical(try t.reshaped([3]))), Digest.sha256Hex(bytes))
    }

    func testDigestMatchesKnownVector() {
        XCTAssertEqual(Digest.sha256Hex(Array("abc".utf8)),
                       "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        XCTAssertEqual(Digest.hex([0x00, 0x0f, 0xf0, 0xff]), "000ff0ff")
    }

    // MARK: - Files written by the Python side

    func testReadsPythonWrittenFiles() throws {
        let expected = try Fixtures.json("expected.json")
        var checked = 0
        for (name, value) in expected where name.hasSuffix(".safetensors") {
            let file = try SafetensorsFile(bytes: try Fixtures.bytes(name))
            let tensors = try XCTUnwrap(value as? [String: Any])
            XCTAssertEqual(Set(file.keys), Set(tensors.keys), name)
            for (key, spec) in tensors {
                let spec = try XCTUnwrap(spec as? [String: Any])
                let t = try file.tensor(key)
                XCTAssertEqual(t.shape.dims, try integers(spec["shape"]).map { Int($0) }, "\(name) \(key)")
                assertSameBits(t.scalars, floats(bits: try integers(spec["bits"])), "\(name) \(key)")
                checked += 1
            }
        }
        XCTAssertEqual(checked, 8)
    }

    func testPythonFileKeepsMetadataAndOffsetOrder() throws {
        let file = try SafetensorsFile(bytes: try Fixtures.bytes("multi_f32.safetensors"))
        XCTAssertEqual(file.metadata, ["format": "pt", "source": "fixture"])
        // Entries are reported in data-offset order ("b" was written first), not key order.
        XCTAssertEqual(file.keys, ["b", "a", "scalar", "empty"])
        XCTAssertEqual(try file.tensor("scalar").shape, Shape([]))
        XCTAssertEqual(try file.tensor("empty").count, 0)
    }

    func testSingleTensorFileNeedsNoKey() throws {
        let file = try SafetensorsFile(bytes: try Fixtures.bytes("single_bf16.safetensors"))
        XCTAssertEqual(try file.tensor(key: nil), try file.tensor("prompt_embeddings"))
    }
}

final class SafetensorsNamespaceTests: XCTestCase {
    func testNamespaceForwardsToTheFileType() throws {
        let t = Tensor(shape: [2], scalars: [1, -1])
        XCTAssertEqual(Safetensors.canonical(t), SafetensorsFile.canonical(t))
        XCTAssertEqual(Safetensors.encode(["x": t], dtype: .f16), SafetensorsFile.encode(["x": t], dtype: .f16))
        XCTAssertEqual(try Safetensors.decode(Safetensors.canonical(t)).tensor("tensor"), t)
    }
}
