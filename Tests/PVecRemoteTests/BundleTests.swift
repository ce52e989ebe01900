import Crypto
import Foundation
import PVecRemote
import PVecStore
import XCTest

final class BundleTests: XCTestCase {
    func testRoundTripKeepsIdsLineageNamesAndSignatures() throws {
        let a = try TempDir(), b = try TempDir()
        let src = try Registry.create(at: a.url)
        let l = try Fixtures.lineage(src, seed: 10)
        try src.updateRef("mnli-tau", to: l.vector, command: "t")
        let key = Curve25519.Signing.PrivateKey()
        try src.addSignature(try ArtifactSignature.sign(l.vector, with: key, signer: "alice"), name: "mnli-tau", command: "sign")
        let file = a.url.appendingPathComponent("out.pvb")
        let s = try PromptBundle.create(from: src, names: ["mnli-tau"], to: file)
        XCTAssertEqual(s.artifacts, 4, "init, prompt, vector and the prompt's evaluation")
        XCTAssertEqual(s.blobs, 3)

        let dst = try Registry.create(at: b.url)
        let r = try PromptBundle.importBundle(file, into: dst, prefix: "team-a/", command: "import")
        XCTAssertEqual(r.newArtifacts, 4)
        XCTAssertEqual(try dst.resolve("team-a/mnli-tau"), l.vector)
        XCTAssertEqual(Set(try dst.closure(of: [l.vector]).manifests), Set([l.initID, l.prompt, l.vector, l.eval]))
        XCTAssertEqual(try dst.tensor(l.vector), try src.tensor(l.vector))
        XCTAssertEqual(try dst.signatures(of: l.vector).count, 1)
        XCTAssertEqual(try dst.checkIntegrity(), [])

        // Importing again writes nothing new.
        let again = try PromptBundle.importBundle(file, into: dst, prefix: "team-a/", command: "import")
        XCTAssertEqual(again.newArtifacts, 0)
        XCTAssertEqual(again.blobsWritten, 0)
        XCTAssertEqual(again.blobsPresent, 3)
    }

    /// Flips each byte position class (header, index, blob body, manifest body, digest) and
    /// checks every flip is refused with nothing imported.
    func testFlippedOrTruncatedBundleIsRefusedAndNothingImported() throws {
        let a = try TempDir()
        let src = try Registry.create(at: a.url)
        let l = try Fixtures.lineage(src, seed: 20)
        try src.updateRef("p", to: l.prompt, command: "t")
        let file = a.url.appendingPathComponent("out.pvb")
        _ = try PromptBundle.create(from: src, names: ["p"], to: file)
        let good = try [UInt8](Data(contentsOf: file))
        let indexLength = Int(good[12]) | Int(good[13]) << 8
        let firstBody = 20 + indexLength
        let positions = [3, 25, firstBody + 20, good.count - 100, good.count - 5]
        for pos in positions {
            var bad = good
            bad[pos] ^= 0x01
            let f = a.url.appendingPathComponent("bad-\(pos).pvb")
            try Data(bad).write(to: f)
            let b = try TempDir()
            let dst = try Registry.create(at: b.url)
            XCTAssertThrowsError(try PromptBundle.importBundle(f, into: dst, command: "import"), "flip at \(pos)") { e in
                guard case RemoteError.badBundle(_, let entry) = e else { return XCTFail("\(e)") }
                if pos == firstBody + 20 { XCTAssertTrue(entry.contains("entry 1 (blob"), entry) }
            }
            XCTAssertEqual(try dst.list().count, 0, "flip at \(pos) imported something")
            XCTAssertEqual(try dst.refs().count, 0)
        }
        let t = a.url.appendingPathComponent("trunc.pvb")
        try Data(good.prefix(good.count / 2)).write(to: t)
        let b = try TempDir()
        let dst = try Registry.create(at: b.url)
        XCTAssertThrowsError(try PromptBundle.importBundle(t, into: dst, command: "import")) { e in
            XCTAssertTrue(e.localizedDescription.contains("truncated"), e.localizedDescription)
        }
        XCTAssertEqual(try dst.list().count, 0)
    }

    func testNameConflictRefusesWholeImport() throws {
        let a = try TempDir(), b = try TempDir()
        let src = try Registry.create(at: a.url)
        let p = try Fixtures.prompt(src, seed: 1)
        try src.updateRef("p", to: p, command: "t")
        let file = a.url.appendingPathComponent("out.pvb")
        _ = try PromptBundle.create(from: src, names: ["p"], to: file)
        let dst = try Registry.create(at: b.url)
        let other = try Fixtures.prompt(dst, seed: 2)
        try dst.updateRef("p", to: other, command: "t")
        XCTAssertThrowsError(try PromptBundle.importBundle(file, into: dst, command: "import")) { e in
            guard case RemoteError.nameTaken = e else { return XCTFail("\(e)") }
        }
        XCTAssertEqual(try dst.resolve("p"), other)
        XCTAssertFalse(dst.hasArtifact(p))
    }
}

final class TransferStoreTests: XCTestCase {
    func testTamperedUploadIsRefused() throws {
        let a = try TempDir(), b = try TempDir()
        let src = try Registry.create(at: a.url), dst = try Registry.create(at: b.url)
        let p = try Fixtures.prompt(src, seed: 3)
        let m = try src.manifest(p)
        var blob = try src.encodedBlob(m.blob!)
        blob[blob.count - 3] ^= 0x10
        XCTAssertThrowsError(try dst.putEncodedBlob(blob, as: m.blob!))
        XCTAssertFalse(dst.hasBlob(m.blob!))
        var bytes = try src.manifestBytes(p)
        bytes[10] ^= 0x01
        XCTAssertThrowsError(try Registry.incomingManifest(bytes, as: p)) { e in
            guard case StoreError.hashMismatch = e else { return XCTFail("\(e)") }
        }
    }

    func testGCKeepsPinnedObjectsOfAPushInFlight() throws {
        let a = try TempDir(), b = try TempDir()
        let src = try Registry.create(at: a.url), dst = try Registry.create(at: b.url)
        let l = try Fixtures.lineage(src, seed: 30)
        let c = try src.closure(of: [l.vector])
        for blob in c.blobs { try dst.putEncodedBlob(try src.encodedBlob(blob), as: blob) }
        try dst.pin(c.blobs.map(\.hex), for: 3600)
        try dst.receive(IncomingBatch(manifests: try c.manifests.map { try src.manifestBytes($0) }, pinFor: 3600),
                        source: "test", command: "push")
        // No name reaches them yet; gc with no grace period must still keep them.
        let r = try dst.gc(dryRun: false, gracePeriod: 0)
        XCTAssertEqual(r.removedArtifacts, [])
        XCTAssertEqual(r.removedBlobs, [])
        // Expired pins no longer protect.
        try dst.pin(c.blobs.map(\.hex) + c.manifests.map(\.hex), for: -1)
        let r2 = try dst.gc(dryRun: false, gracePeriod: 0)
        XCTAssertEqual(Set(r2.removedArtifacts), Set(c.manifests))
    }

    func testReceiveIsAllOrNothing() throws {
        let a = try TempDir(), b = try TempDir()
        let src = try Registry.create(at: a.url), dst = try Registry.create(at: b.url)
        let l = try Fixtures.lineage(src, seed: 40)
        let c = try src.closure(of: [l.vector])
        for blob in c.blobs { try dst.putEncodedBlob(try src.encodedBlob(blob), as: blob) }
        let other = try Fixtures.prompt(dst, seed: 99)
        try dst.updateRef("v", to: other, command: "t")
        XCTAssertThrowsError(try dst.receive(IncomingBatch(manifests: try c.manifests.map { try src.manifestBytes($0) },
                                                           refs: [("v", l.vector, .some(nil))]), source: "t", command: "t"))
        XCTAssertEqual(try dst.list().count, 1)
        XCTAssertEqual(try dst.resolve("v"), other)
    }
}
