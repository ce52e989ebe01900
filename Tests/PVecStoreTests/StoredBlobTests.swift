import Foundation
import PVecTensor
import XCTest
@testable import PVecStore

/// Blobs kept uncompressed (the stored flag of PVB1) where compression does not pay, the
/// one-pass tensor read, and the canonical header recogniser it relies on.
final class StoredBlobTests: XCTestCase {
    /// Overwrites a read-only object file, as a damaged disk or a tamperer could.
    func overwrite(_ url: URL, _ bytes: [UInt8]) throws {
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: url.path)
        try Data(bytes).write(to: url)
    }

    func testPromptsAreStoredUncompressedAndRepetitiveTensorsCompressed() throws {
        let dir = try TempDir()
        let reg = try Registry.create(at: dir.url)
        // A prompt: near-random mantissas, compression would keep ~85 % of the bytes.
        let prompt = Fixtures.normal([20, 64], seed: 11, std: 0.05)
        let p = try reg.putBlob(prompt)
        let pBytes = try FileIO.readFile(reg.objects.url(for: p.hex))
        XCTAssertEqual(BlobEncoding.isStored(pBytes), true, "a prompt is stored uncompressed")
        XCTAssertEqual(pBytes.count, BlobEncoding.headerSize + Safetensors.canonical(prompt).count)
        XCTAssertEqual(Array(pBytes[BlobEncoding.headerSize...]), Safetensors.canonical(prompt), "the payload is the canonical bytes")
        // Repeated rows: deflate removes almost everything, so compression is kept.
        let row = Fixtures.normal([64], seed: 12).scalars
        let repeated = Tensor(shape: [40, 64], scalars: Array((0..<40).map { _ in row }.joined()))
        let r = try reg.putBlob(repeated)
        let rBytes = try FileIO.readFile(reg.objects.url(for: r.hex))
        XCTAssertEqual(BlobEncoding.isStored(rBytes), false, "a repetitive tensor stays compressed")
        XCTAssertLessThan(rBytes.count, Safetensors.canonical(repeated).count / 4)
        // Ids hash the canonical bytes either way; both read back and verify.
        XCTAssertEqual(p.hex, Digest.sha256Hex(Safetensors.canonical(prompt)))
        XCTAssertEqual(r.hex, Digest.sha256Hex(Safetensors.canonical(repeated)))
        XCTAssertEqual(try reg.blob(p)["tensor"], prompt)
        XCTAssertEqual(try reg.blob(r)["tensor"], repeated)
        XCTAssertEqual(try reg.canonicalBlob(p), Safetensors.canonical(prompt))
        XCTAssertEqual(try reg.verifiedEncodedBlob(p), pBytes)
        for (id, t) in [(p, prompt), (r, repeated)] {
            let m = Manifest(kind: .prompt, blob: id, shape: t.shape, backbone: Backbone(model: "test/backbone", width: 64),
                             recipe: Recipe(op: "import", params: ["k": .int(Int64(t.count))]))
            try reg.writeManifest(m)
        }
        XCTAssertEqual(try reg.checkIntegrity(), [], "stored and compressed objects both verify")
    }

    func testStoredObjectsWithSeveralTensorsReadThroughTheGeneralParser() throws {
        let dir = try TempDir()
        let reg = try Registry.create(at: dir.url)
        let many = ["tensor": Fixtures.normal([16, 32], seed: 1), "head.weight": Fixtures.normal([32, 3], seed: 2)]
        let id = try reg.putBlob(many)
        XCTAssertEqual(BlobEncoding.isStored(try FileIO.readFile(reg.objects.url(for: id.hex))), true)
        XCTAssertEqual(try reg.blob(id), many)
    }

    func testTruncatedOrLyingStoredObjectsAreClearErrors() throws {
        let dir = try TempDir()
        let reg = try Registry.create(at: dir.url)
        let t = Fixtures.normal([20, 64], seed: 21, std: 0.05)
        let id = try reg.putBlob(t)
        let url = reg.objects.url(for: id.hex)
        let good = try FileIO.readFile(url)
        XCTAssertEqual(BlobEncoding.isStored(good), true)
        func reason(_ bytes: [UInt8]) -> String {
            do { _ = try BlobEncoding.decode(bytes); return "decoded" } catch { return error.reason }
        }
        func corruptReason(_ bytes: [UInt8], file: StaticString = #filePath, line: UInt = #line) throws -> String {
            try overwrite(url, bytes)
            do {
                _ = try reg.blob(id)
                XCTFail("read a damaged object", file: file, line: line)
                return ""
            } catch let StoreError.corruptObject(hex, path, why) {
                XCTAssertEqual(hex, id.hex, file: file, line: line)
                XCTAssertEqual(path, url.path, file: file, line: line)
                return why
            }
        }
        // Cut short: the header's length no longer matches what follows.
        let cut = Array(good.dropLast(7))
        XCTAssertTrue(reason(cut).contains("stored (uncompressed) blob holds"), reason(cut))
        XCTAssertTrue(try corruptReason(cut).contains("header says \(good.count - BlobEncoding.headerSize)"))
        // One byte too many.
        XCTAssertTrue(try corruptReason(good + [0]).contains("stored (uncompressed) blob holds"))
        // A flipped bit in the data: the same length, another hash.
        var flipped = good
        flipped[flipped.count - 3] ^= 0x10
        XCTAssertTrue(try corruptReason(flipped).contains("content hashes to"))
        // Flags that lie: stored bytes called a zlib stream, a zlib stream called stored,
        // both flags at once, and an unknown bit.
        var asZlib = good
        asZlib[4] = BlobEncoding.shuffleFlag
        XCTAssertFalse(try corruptReason(asZlib).isEmpty)
        let zlib = BlobEncoding.encode(Safetensors.canonical(t), shuffle: true)
        var asStored = zlib
        asStored[4] = BlobEncoding.storedFlag
        XCTAssertTrue(try corruptReason(asStored).contains("stored (uncompressed) blob holds"))
        var both = good
        both[4] = BlobEncoding.storedFlag | BlobEncoding.shuffleFlag
        XCTAssertTrue(try corruptReason(both).contains("both stored and shuffled"))
        var unknown = good
        unknown[4] = 0x04 | BlobEncoding.storedFlag
        XCTAssertTrue(try corruptReason(unknown).contains("unknown flags"))
        // The length is still bounded before anything is trusted.
        var huge = good
        huge[5 + 4] ^= 0x08
        XCTAssertTrue(try corruptReason(huge).contains("header announces"))
        // Put back, it reads again.
        try overwrite(url, good)
        XCTAssertEqual(try reg.blob(id)["tensor"], t)
    }

    func testCompressedObjectsReadInOnePassGiveTheSameTensors() throws {
        let dir = try TempDir()
        let reg = try Registry.create(at: dir.url)
        let t = Fixtures.normal([33, 17], seed: 5)
        let raw = Safetensors.canonical(t)
        let hex = Digest.sha256Hex(raw)
        for encoded in [BlobEncoding.encode(raw, shuffle: true), BlobEncoding.encode(raw, shuffle: false),
                        BlobEncoding.encodeFast(raw), BlobEncoding.encodeStored(raw)] {
            try? reg.objects.remove(hex)
            try reg.objects.write(encoded, as: hex)
            let (tensor, digest) = try XCTUnwrap(try BlobEncoding.singleTensor(encoded))
            XCTAssertEqual(tensor, t)
            XCTAssertEqual(digest, hex, "the one-pass read hashes the canonical bytes")
            XCTAssertEqual(try reg.blob(BlobID(hex)!)["tensor"], t)
        }
    }

    func testCanonicalHeaderMatchesTheWriterAndRefusesLookalikes() throws {
        for shape: Shape in [[], [0], [0, 4], [1, 1], [3, 8], [100, 768], [2, 3, 4, 5]] {
            let t = Tensor(zeros: shape)
            let bytes = Safetensors.canonical(t)
            let header = CanonicalTensorLayout.header(for: shape)
            XCTAssertEqual(Array(bytes.prefix(header.count)), header, "\(shape)")
            let layout = bytes.withUnsafeBytes { CanonicalTensorLayout.parse($0, total: bytes.count) }
            XCTAssertEqual(layout?.shape, shape, "\(shape)")
            XCTAssertEqual(layout?.dataStart, header.count, "\(shape)")
            // One byte more or less of data, and the layout is not the canonical one.
            XCTAssertNil(bytes.withUnsafeBytes { CanonicalTensorLayout.parse($0, total: bytes.count + 4) })
        }
        // Another key, another dtype, metadata: left to the general parser.
        let t = Fixtures.normal([2, 2], seed: 1)
        for other in [Safetensors.encode(["prompt": t]), Safetensors.encode(["tensor": t], dtype: .f16),
                      Safetensors.encode(["tensor": t], metadata: ["a": "b"])] {
            XCTAssertNil(other.withUnsafeBytes { CanonicalTensorLayout.parse($0, total: other.count) })
        }
        // A shape written with a leading zero is not what the writer makes.
        var text = Array(CanonicalTensorLayout.header(for: [2, 2]))
        let at = text.firstIndex(of: UInt8(ascii: "["))!
        text.insert(UInt8(ascii: "0"), at: at + 1)
        text.removeLast()
        XCTAssertNil((text + [UInt8](repeating: 0, count: 16)).withUnsafeBytes { CanonicalTensorLayout.parse($0, total: text.count + 16) })
    }
}
