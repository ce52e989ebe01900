import Foundation
import PVecTensor
import XCTest
@testable import PVecStore

/// Blobs a transfer writes under temp names as they arrive (`stageCanonicalBlob`) become part
/// of the registry only through `receive`, and leave nothing when they do not get there.
final class StagedBlobTests: XCTestCase {
    /// A prompt in a source registry: its canonical blob and its manifest bytes.
    func source(seed: UInt64) throws -> (dir: TempDir, id: ArtifactID, blob: BlobID, raw: [UInt8], manifest: [UInt8]) {
        let dir = try TempDir()
        let reg = try Registry.create(at: dir.url)
        let id = try Fixtures.prompt(reg, seed: seed)
        let blob = try XCTUnwrap(try reg.manifest(id).blob)
        return (dir, id, blob, try reg.canonicalBlob(blob), try reg.manifestBytes(id))
    }

    func testAStagedBlobIsInvisibleUntilReceivedAndThenStoredWhole() throws {
        let src = try source(seed: 1)
        let dir = try TempDir()
        let reg = try Registry.create(at: dir.url)
        let staged = try reg.stageCanonicalBlob(src.raw, as: src.blob)
        let files = try objectFiles(reg, in: ["objects"])
        XCTAssertEqual(files.count, 1)
        XCTAssertTrue(files[0].contains(ObjectDirectory.tempPrefix), "written under a temp name: \(files)")
        XCTAssertFalse(reg.hasBlob(src.blob), "a staged blob is not in the registry")

        try reg.receive(IncomingBatch(manifests: [src.manifest], blobs: [.staged(staged)]), source: "test", command: "test")
        XCTAssertTrue(reg.hasArtifact(src.id))
        XCTAssertEqual(try reg.canonicalBlob(src.blob), src.raw)
        XCTAssertEqual(try objectFiles(reg, in: ["objects"]).filter { $0.contains(ObjectDirectory.tempPrefix) }, [], "the temp file was renamed")
        XCTAssertEqual(try reg.checkIntegrity(), [])
        // Received again (already stored): nothing changes, and the new temp file goes at once.
        let again = try reg.stageCanonicalBlob(src.raw, as: src.blob)
        try reg.receive(IncomingBatch(manifests: [src.manifest], blobs: [.staged(again)]), source: "test", command: "test")
        XCTAssertEqual(try objectFiles(reg, in: ["objects"]).count, 1)
        withExtendedLifetime(again) {}
    }

    func testABlobThatFailsItsChecksIsNotWrittenAndADroppedOneLeavesNothing() throws {
        let src = try source(seed: 2)
        let dir = try TempDir()
        let reg = try Registry.create(at: dir.url)
        var bad = src.raw
        bad[bad.count - 1] ^= 0x01
        XCTAssertStoreError(try reg.stageCanonicalBlob(bad, as: src.blob)) {
            if case .hashMismatch = $0 { return true } else { return false }
        }
        XCTAssertEqual(try objectFiles(reg, in: ["objects"]), [], "a blob that does not hash to its id is not written")
        do {
            let staged = try reg.stageCanonicalBlob(src.raw, as: src.blob)
            XCTAssertEqual(try objectFiles(reg, in: ["objects"]).count, 1)
            withExtendedLifetime(staged) {}
        }
        XCTAssertEqual(try objectFiles(reg, in: ["objects"]), [], "a staged blob released without receive is removed")
    }

    func testAReceiveThatFailsLeavesNoStagedFileAndAForeignStagedBlobIsRefused() throws {
        let src = try source(seed: 3)
        let child = try source(seed: 4)
        let dir = try TempDir()
        let reg = try Registry.create(at: dir.url)
        do {
            let staged = try reg.stageCanonicalBlob(src.raw, as: src.blob)
            // A second manifest that is not canonical fails the whole batch after the blob was staged.
            let broken = Array(child.manifest.dropLast()) + [0x20, 0x7D]
            XCTAssertStoreError(try reg.receive(IncomingBatch(manifests: [src.manifest, broken], blobs: [.staged(staged)]),
                                                source: "test", command: "test")) {
                if case .malformedManifest = $0 { return true } else { return false }
            }
        }
        XCTAssertFalse(reg.hasArtifact(src.id))
        XCTAssertEqual(try objectFiles(reg, in: ["objects"]), [], "nothing of the failed batch is left")

        let other = try TempDir()
        let otherReg = try Registry.create(at: other.url)
        let foreign = try otherReg.stageCanonicalBlob(src.raw, as: src.blob)
        XCTAssertStoreError(try reg.receive(IncomingBatch(manifests: [src.manifest], blobs: [.staged(foreign)]),
                                            source: "test", command: "test")) {
            if case .notWritable = $0 { return true } else { return false }
        }
        XCTAssertFalse(reg.hasArtifact(src.id))
        XCTAssertEqual(try objectFiles(reg, in: ["objects"]), [])
    }
}
