import Foundation
import PVecTensor
import XCTest
@testable import PVecStore

final class BlobStoreTests: XCTestCase {
    func testRoundTripAndIdempotence() throws {
        let dir = try TempDir()
        let reg = try Registry.create(at: dir.url)
        let t = Fixtures.normal([3, 8], seed: 1)
        let id = try reg.putBlob(t)
        XCTAssertEqual(id.hex, Digest.sha256Hex(Safetensors.canonical(t)), "blob id is the hash of the canonical encoding")
        XCTAssertTrue(reg.hasBlob(id))
        XCTAssertEqual(try reg.blob(id)["tensor"], t)
        let path = reg.objects.url(for: id.hex)
        XCTAssertEqual(path.deletingLastPathComponent().lastPathComponent, String(id.hex.prefix(2)))
        let before = try FileManager.default.attributesOfItem(atPath: path.path)[.modificationDate] as? Date
        XCTAssertEqual(try reg.putBlob(t), id, "writing again gives the same id")
        let after = try FileManager.default.attributesOfItem(atPath: path.path)[.modificationDate] as? Date
        XCTAssertEqual(before, after, "an existing object is not rewritten")

        let many = ["a": Fixtures.normal([2, 2], seed: 2), "b": Fixtures.normal([5], seed: 3)]
        let id2 = try reg.putBlob(many)
        XCTAssertEqual(try reg.blob(id2), many)
        XCTAssertFalse(reg.hasBlob(BlobID(String(repeating: "0", count: 64))!))
        XCTAssertStoreError(try reg.blob(BlobID(String(repeating: "0", count: 64))!)) {
            if case .missingObject = $0 { return true } else { return false }
        }
    }

    func testShuffledAndPlainBothDecode() throws {
        let t = Fixtures.normal([10, 16], seed: 5)
        let raw = Safetensors.canonical(t)
        for shuffle in [false, true] {
            let enc = BlobEncoding.encode(raw, shuffle: shuffle)
            XCTAssertEqual(Array(enc[0..<4]), Array("PVB1".utf8))
            XCTAssertEqual(BlobEncoding.isShuffled(enc), shuffle)
            XCTAssertEqual(try BlobEncoding.decode(enc), raw, "shuffle=\(shuffle)")
        }
        XCTAssertNotEqual(BlobEncoding.encode(raw, shuffle: true), BlobEncoding.encode(raw, shuffle: false))

        // Both encodings read back through a registry too (objects written by hand).
        let dir = try TempDir()
        let reg = try Registry.create(at: dir.url)
        let hex = Digest.sha256Hex(raw)
        for shuffle in [false, true] {
            try? reg.objects.remove(hex)
            try reg.objects.write(BlobEncoding.encode(raw, shuffle: shuffle), as: hex)
            XCTAssertEqual(try reg.blob(BlobID(hex)!)["tensor"], t)
        }
        // A header with an unknown flag is refused.
        var enc = BlobEncoding.encode(raw, shuffle: false)
        enc[4] = 0x80
        XCTAssertThrowsError(try BlobEncoding.decode(enc))
    }

    /// The header's length is checked against the limit and against what the stream can
    /// inflate to; a stream that inflates past its header, or stops short, is named.
    func testLengthFieldIsBoundedByTheStreamAndTheLimit() throws {
        let raw = Safetensors.canonical(Fixtures.normal([64, 16], seed: 3))
        let enc = BlobEncoding.encode(raw, shuffle: true)
        func withLength(_ n: UInt64) -> [UInt8] {
            var e = enc
            for i in 0..<8 { e[5 + i] = UInt8(truncatingIfNeeded: n >> (8 * UInt64(i))) }
            return e
        }
        func reason(_ e: [UInt8]) -> String {
            do { _ = try BlobEncoding.decode(e); return "decoded" } catch { return error.reason }
        }
        XCTAssertEqual(try BlobEncoding.decode(withLength(UInt64(raw.count))), raw)
        XCTAssertTrue(reason(withLength(1 << 36)).contains("limit"), reason(withLength(1 << 36)))
        let ratioBound = UInt64(enc.count - BlobEncoding.headerSize) * BlobEncoding.maxInflateRatio + 65
        XCTAssertTrue(reason(withLength(ratioBound)).contains("more than deflate can expand"), reason(withLength(ratioBound)))
        XCTAssertTrue(reason(withLength(UInt64(raw.count - 1))).contains("longer than its header"))
        XCTAssertTrue(reason(withLength(UInt64(raw.count + 1))).contains("header says"))
        XCTAssertTrue(reason(Array(enc.dropLast(9))).contains("cut short"), reason(Array(enc.dropLast(9))))
        XCTAssertTrue(reason(enc + [0]).contains("stray"))
        // Deflate's real ceiling: a megabyte of zeros really does inflate ~1000-fold.
        let zeros = [UInt8](repeating: 0, count: 1 << 20)
        let z = BlobEncoding.encode(zeros, shuffle: false)
        XCTAssertLessThan(z.count * 900, zeros.count + 900 * 13)
        XCTAssertEqual(try BlobEncoding.decode(z), zeros)
    }

    func testCorruptedBlobIsDetected() throws {
        let dir = try TempDir()
        let reg = try Registry.create(at: dir.url)
        let id = try Fixtures.prompt(reg, seed: 7)
        let blob = try reg.manifest(id).blob!
        let path = reg.objects.url(for: blob.hex)
        var bytes = try FileIO.readFile(path)
        bytes[bytes.count / 2] ^= 0x40
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: path.path)
        try Data(bytes).write(to: path)
        XCTAssertStoreError(try reg.blob(blob)) {
            if case .corruptObject(let oid, let p, _) = $0 { return oid == blob.hex && p == path.path } else { return false }
        }
        XCTAssertStoreError(try reg.tensor(id)) {
            if case .corruptObject(let oid, _, _) = $0 { return oid == blob.hex } else { return false }
        }
        for problems in [try reg.checkIntegrity(), try reg.checkIntegrity(id)] {
            XCTAssertEqual(problems.count, 1, "\(problems)")
            XCTAssertEqual(problems.first?.kind, .corruptObject)
            XCTAssertEqual(problems.first?.subject, blob.hex)
        }

        // A blob whose bytes decode but hash to something else is caught too.
        let other = Safetensors.canonical(Fixtures.normal([4, 8], seed: 99))
        try FileManager.default.removeItem(at: path)
        try reg.objects.write(BlobEncoding.encode(other, shuffle: true), as: blob.hex)
        XCTAssertStoreError(try reg.blob(blob)) {
            if case .corruptObject(_, _, let reason) = $0 { return reason.contains("hashes to") } else { return false }
        }
    }

    /// Measures on-disk size with and without the byte shuffle (numbers go to the test log),
    /// and checks that the writer keeps the smaller one.
    func testShuffleSizes() throws {
        // Random-normal prompts, and a "trained-looking" one: small values (vocab-embedding
        // scale, std 0.05) plus a low-rank drift, like a prompt tuned from a vocab-sampled init.
        let random = Fixtures.normal([100, 768], seed: 11)
        var trained = Fixtures.normal([100, 768], seed: 12, std: 0.05)
        let u = Fixtures.normal([100, 4], seed: 13, std: 0.1), v = Fixtures.normal([4, 768], seed: 14, std: 0.1)
        let drift = try u.matmul(v)
        trained = try trained.adding(drift)
        for (label, t) in [("random-normal 100x768", random), ("trained-looking 100x768", trained)] {
            let raw = Safetensors.canonical(t)
            let plain = BlobEncoding.encode(raw, shuffle: false).count
            let shuffled = BlobEncoding.encode(raw, shuffle: true).count
            let kept = BlobEncoding.encodeSmallest(raw).count
            print(String(format: "blob size %@: raw %d, deflate %d (%.1f%%), shuffle+deflate %d (%.1f%%)",
                         label, raw.count, plain, 100 * Double(plain) / Double(raw.count),
                         shuffled, 100 * Double(shuffled) / Double(raw.count)))
            XCTAssertEqual(kept, min(plain, shuffled))
            XCTAssertLessThan(shuffled, plain, "shuffling should help on \(label)")
        }
    }
}
