import Foundation
import PVecTensor
import XCTest
@testable import PVecStore

/// `stackedSingleTensors`: blobs decoded straight into the rows of one matrix, checked as
/// `tensor(_:)` checks them one by one.
final class StackedTensorTests: XCTestCase {
    func testRowsAreTheStoredTensorsBitForBitStoredAndCompressedAlike() throws {
        let dir = try TempDir()
        let reg = try Registry.create(at: dir.url)
        // Large enough for compression to be tried; the constant one compresses, the random ones do not.
        let shape: Shape = [64, 32]
        var tensors = (1...5).map { Fixtures.normal(shape, seed: UInt64($0)) }
        tensors.append(Tensor(shape: shape, scalars: [Float](repeating: 0.25, count: shape.count)))
        let blobs = try tensors.map { try reg.putBlob($0) }
        let encodings = try blobs.map { try XCTUnwrap(BlobEncoding.isStored(try XCTUnwrap(try reg.objects.read($0.hex)))) }
        XCTAssertEqual(Set(encodings), [true, false], "both encodings are exercised")

        let x = try XCTUnwrap(try reg.stackedSingleTensors(blobs, count: shape.count))
        XCTAssertEqual(x.count, blobs.count * shape.count)
        for (i, t) in tensors.enumerated() {
            XCTAssertEqual(Array(x[(i * shape.count)..<((i + 1) * shape.count)]).map(\.bitPattern), t.scalars.map(\.bitPattern), "row \(i)")
        }
        XCTAssertEqual(try reg.stackedSingleTensors([], count: shape.count), [])
        XCTAssertNil(try reg.stackedSingleTensors(blobs, count: shape.count + 1), "another size goes the one-by-one way")
    }

    func testACorruptOrMissingBlobIsNamedAndTheFirstBadOneWins() throws {
        let dir = try TempDir()
        let reg = try Registry.create(at: dir.url)
        let blobs = try (1...4).map { try reg.putBlob(Fixtures.normal([16, 8], seed: UInt64($0))) }
        // Flip one bit of the data of blob 2 (the file is read-only, as objects are).
        let url = reg.objects.url(for: blobs[2].hex)
        var bytes = [UInt8](try Data(contentsOf: url))
        bytes[bytes.count - 5] ^= 0x01
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: url.path)
        try Data(bytes).write(to: url)
        XCTAssertStoreError(try reg.stackedSingleTensors(blobs, count: 128)) {
            if case .corruptObject(let id, _, _) = $0 { return id == blobs[2].hex } else { return false }
        }
        // Blob 1 missing as well: the lower index is the one reported.
        try FileManager.default.removeItem(at: reg.objects.url(for: blobs[1].hex))
        XCTAssertStoreError(try reg.stackedSingleTensors(blobs, count: 128)) {
            if case .missingObject(let id, _) = $0 { return id == blobs[1].hex } else { return false }
        }
    }
}
