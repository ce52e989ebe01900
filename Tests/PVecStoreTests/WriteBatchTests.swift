import Foundation
import PVecTensor
import XCTest
@testable import PVecStore

/// Grouped writes: the objects of a command in one fsync pass, then one catalog transaction.
final class WriteBatchTests: XCTestCase {
    func artifactCount(_ reg: Registry) throws -> Int { try reg.list().count }

    /// Every object file under `objects/` and `manifests/`, temp files included.
    func files(_ reg: Registry) throws -> [String] { try objectFiles(reg, in: ["objects", "manifests"]) }

    func manifest(_ blob: BlobID, _ t: Tensor, parents: [Parent] = [], seed: Int64) -> Manifest {
        Manifest(kind: parents.isEmpty ? .prompt : .vector, blob: blob, shape: t.shape, backbone: Fixtures.backbone,
                 parents: parents, recipe: Recipe(op: parents.isEmpty ? "import" : "sub", params: ["seed": .int(seed)]))
    }

    func testABatchWritesNothingUntilCommitThenEverythingAtOnce() throws {
        let dir = try TempDir()
        let reg = try Registry.create(at: dir.url)
        let base = try Fixtures.prompt(reg, seed: 1)
        let before = try files(reg)
        let batch = WriteBatch()
        let t1 = Fixtures.normal([4, 8], seed: 2), t2 = Fixtures.normal([4, 8], seed: 3)
        let b1 = try reg.putBlob(t1, in: batch)
        let m1 = try reg.writeManifest(manifest(b1, t1, parents: [Parent(.operand, base)], seed: 2), in: batch)
        let b2 = try reg.putBlob(t2, in: batch)
        // A parent staged in the same batch is accepted.
        let m2 = try reg.writeManifest(manifest(b2, t2, parents: [Parent(.operand, m1)], seed: 3), in: batch)
        try reg.updateRef("first", to: m1, command: "test", in: batch)
        try reg.updateRef("second", to: m2, command: "test", in: batch)
        XCTAssertEqual(try files(reg), before, "nothing is written before commit")
        XCTAssertFalse(reg.hasArtifact(m1))
        XCTAssertEqual(batch.tensor(blob: b1), t1, "the batch serves what it staged")

        XCTAssertEqual(try reg.commit(batch), [1, 1])
        XCTAssertEqual(try reg.resolve("first"), m1)
        XCTAssertEqual(try reg.resolve("second"), m2)
        XCTAssertEqual(try reg.tensor(m2), t2)
        XCTAssertEqual(try reg.lineage(of: m2).edges.count, 2)
        XCTAssertEqual(try reg.checkIntegrity(), [])
        XCTAssertEqual(try files(reg).filter { $0.contains(ObjectDirectory.tempPrefix) }, [], "no temp files remain")
        XCTAssertThrowsError(try reg.commit(batch), "a batch is committed once")

        // The same objects again: nothing new is written, the names do not move.
        let again = WriteBatch()
        XCTAssertEqual(try reg.putBlob(t1, in: again), b1)
        XCTAssertEqual(try reg.writeManifest(manifest(b1, t1, parents: [Parent(.operand, base)], seed: 2), in: again), m1)
        try reg.updateRef("first", to: m1, command: "test", in: again)
        let snapshot = try files(reg)
        XCTAssertEqual(try reg.commit(again), [1])
        XCTAssertEqual(try files(reg), snapshot)
    }

    func testARefusedManifestIsCaughtWhenStaged() throws {
        let dir = try TempDir()
        let reg = try Registry.create(at: dir.url)
        let batch = WriteBatch()
        let t = Fixtures.normal([4, 8], seed: 2)
        let b = try reg.putBlob(t, in: batch)
        let ghost = ArtifactID(String(repeating: "ab", count: 32))!
        XCTAssertStoreError(try reg.writeManifest(manifest(b, t, parents: [Parent(.operand, ghost)], seed: 1), in: batch)) {
            if case .missingParent = $0 { return true } else { return false }
        }
        let unknownBlob = BlobID(String(repeating: "cd", count: 32))!
        XCTAssertStoreError(try reg.writeManifest(manifest(unknownBlob, t, seed: 1), in: batch)) {
            if case .missingObject = $0 { return true } else { return false }
        }
    }

    /// A write that fails part-way (here: a file where an object's folder must go) leaves no
    /// object, no temp file, no catalog row and no name behind.
    func testAFailedWriteLeavesNothingVisible() throws {
        let dir = try TempDir()
        let reg = try Registry.create(at: dir.url)
        let base = try Fixtures.prompt(reg, seed: 1)
        try reg.updateRef("base", to: base, command: "test")
        let beforeFiles = try files(reg)
        let beforeCount = try artifactCount(reg)
        let beforeLog = try reg.refHistory("base")

        // Pick tensors whose blob folders are still free and block the second one.
        var seed: UInt64 = 100
        func fresh() -> Tensor {
            while true {
                seed += 1
                let t = Fixtures.normal([4, 8], seed: seed)
                let hex = Digest.sha256Hex(Safetensors.canonical(t))
                let folder = reg.objects.base.appendingPathComponent(String(hex.prefix(2)))
                if !FileManager.default.fileExists(atPath: folder.path) { return t }
            }
        }
        let t1 = fresh(), t2 = fresh()
        let blocked = reg.objects.base.appendingPathComponent(String(Digest.sha256Hex(Safetensors.canonical(t2)).prefix(2)))
        XCTAssertTrue(FileManager.default.createFile(atPath: blocked.path, contents: Data("in the way".utf8)))
        let batch = WriteBatch()
        let b1 = try reg.putBlob(t1, in: batch)
        let m1 = try reg.writeManifest(manifest(b1, t1, parents: [Parent(.operand, base)], seed: 1), in: batch)
        let b2 = try reg.putBlob(t2, in: batch)
        let m2 = try reg.writeManifest(manifest(b2, t2, parents: [Parent(.operand, m1)], seed: 2), in: batch)
        try reg.updateRef("base", to: m2, command: "test", in: batch)
        XCTAssertStoreError(try reg.commit(batch)) {
            if case .notWritable = $0 { return true } else { return false }
        }
        try FileManager.default.removeItem(at: blocked)
        XCTAssertEqual(try files(reg), beforeFiles, "no object or temp file is left")
        XCTAssertEqual(try artifactCount(reg), beforeCount, "nothing is indexed")
        XCTAssertEqual(try reg.resolve("base"), base, "the name did not move")
        XCTAssertEqual(try reg.refHistory("base").count, beforeLog.count)
        XCTAssertEqual(try reg.checkIntegrity(), [])
    }

    /// A name change that conflicts aborts the whole batch: no rows, no name.
    func testAConflictingNameAbortsTheBatch() throws {
        let dir = try TempDir()
        let reg = try Registry.create(at: dir.url)
        let base = try Fixtures.prompt(reg, seed: 1)
        try reg.updateRef("taken", to: base, command: "test")
        let batch = WriteBatch()
        let t = Fixtures.normal([4, 8], seed: 9)
        let b = try reg.putBlob(t, in: batch)
        let m = try reg.writeManifest(manifest(b, t, parents: [Parent(.operand, base)], seed: 9), in: batch)
        try reg.updateRef("taken", to: m, expected: .some(nil), command: "test", in: batch)
        XCTAssertStoreError(try reg.commit(batch)) {
            if case .refConflict = $0 { return true } else { return false }
        }
        XCTAssertFalse(reg.hasArtifact(m))
        XCTAssertEqual(try reg.resolve("taken"), base)
    }

    /// `receive` takes blobs with the manifests, checks them before writing, and writes them
    /// in the same group.
    func testReceiveWritesBlobsWithTheManifestsAndRefusesALyingOne() throws {
        let src = try Registry.create(at: try TempDir().url)
        let a = try Fixtures.prompt(src, seed: 1)
        let blob = try src.manifest(a).blob!
        let encoded = try src.encodedBlob(blob)
        let bytes = try src.manifestBytes(a)

        let dstDir = try TempDir()
        let dst = try Registry.create(at: dstDir.url)
        var lying = encoded
        lying[lying.count - 1] ^= 1
        XCTAssertStoreError(try dst.receive(IncomingBatch(manifests: [bytes], blobs: [.encoded(blob, lying)]), source: "test", command: "test")) {
            if case .hashMismatch = $0 { return true } else { return false }
        }
        XCTAssertFalse(dst.hasBlob(blob))
        XCTAssertFalse(dst.hasArtifact(a))

        let canonical = try src.canonicalBlob(blob)
        XCTAssertEqual(try dst.receive(IncomingBatch(manifests: [bytes], refs: [(name: "a", id: a, expected: nil)],
                                                     blobs: [.canonical(blob, canonical)]), source: "test", command: "test"), [a])
        XCTAssertEqual(try dst.tensor(a), try src.tensor(a))
        XCTAssertEqual(try dst.resolve("a"), a)
        XCTAssertEqual(try dst.checkIntegrity(), [])
    }

    /// Pulled blobs stored as a group: all are checked first, one bad blob writes none of
    /// them, and a good group is written once (a second put writes nothing).
    func testPutEncodedBlobsChecksAllBeforeWritingAny() throws {
        let src = try Registry.create(at: try TempDir().url)
        var blobs: [(id: BlobID, encoded: [UInt8])] = []
        for seed in 1...4 {
            let b = try XCTUnwrap(try src.manifest(try Fixtures.prompt(src, seed: UInt64(seed))).blob)
            blobs.append((b, try src.encodedBlob(b)))
        }
        let dst = try Registry.create(at: try TempDir().url)
        var lying = blobs
        lying[2].encoded[lying[2].encoded.count - 1] ^= 1
        XCTAssertStoreError(try dst.putEncodedBlobs(lying)) {
            if case .hashMismatch(let id, _, _) = $0 { return id == blobs[2].id.hex } else { return false }
        }
        for b in blobs { XCTAssertFalse(dst.hasBlob(b.id), "nothing is written when one blob lies") }
        XCTAssertEqual(try dst.putEncodedBlobs(blobs), 4)
        for b in blobs { XCTAssertEqual(try dst.encodedBlob(b.id), b.encoded) }
        XCTAssertEqual(try dst.putEncodedBlobs(blobs), 0)
    }

    /// A group of thousands of objects (a large pull) keeps a bounded number of files open:
    /// under a descriptor limit well below the group's size, every object is still written.
    func testAGroupLargerThanTheDescriptorLimitIsWritten() throws {
        let dir = try TempDir()
        let objects = ObjectDirectory(base: dir.url.appendingPathComponent("objects"))
        let pending = (0..<1_000).map { k -> ObjectDirectory.PendingObject in
            let bytes = Array("object \(k)".utf8)
            return .init(directory: objects, hex: Digest.sha256Hex(bytes), bytes: bytes)
        }
        let inUse = try FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count
        var saved = rlimit()
        XCTAssertEqual(getrlimit(Int32(RLIMIT_NOFILE.rawValue), &saved), 0)
        var low = saved
        low.rlim_cur = rlim_t(inUse + ObjectDirectory.maxOpenFiles + 64)
        XCTAssertLessThan(Int(low.rlim_cur), pending.count, "the limit must be below the group's size")
        XCTAssertEqual(setrlimit(Int32(RLIMIT_NOFILE.rawValue), &low), 0)
        let written: Int
        do {
            defer { _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &saved) }
            written = try ObjectDirectory.writeGroup(pending)
        }
        XCTAssertEqual(written, pending.count)
        for p in pending {
            XCTAssertEqual(try objects.read(p.hex), p.bytes)
        }
        let leftovers = try FileManager.default.subpathsOfDirectory(atPath: objects.base.path)
            .filter { $0.contains(ObjectDirectory.tempPrefix) }
        XCTAssertEqual(leftovers, [], "no temp file is left")
    }

    /// fsyncs run several at a time; a failure is reported for the first failing file in
    /// order, whichever thread saw it, after the others finished.
    func testSyncAllReportsTheFirstFailingFile() throws {
        let dir = try TempDir()
        var files: [(temp: URL, fd: Int32)] = []
        for k in 0..<12 {
            let url = dir.url.appendingPathComponent("f\(k)")
            let fd = open(url.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
            XCTAssertGreaterThanOrEqual(fd, 0)
            files.append((url, fd))
        }
        defer { for f in files { close(f.fd) } }
        XCTAssertNoThrow(try FileIO.syncAll(files))
        // A descriptor that is not open fails its fsync (EBADF); two of them, the lower wins.
        var broken = files
        broken[9].fd = -1
        broken[5].fd = -1
        XCTAssertThrowsError(try FileIO.syncAll(broken)) { error in
            XCTAssertTrue(String(describing: error).contains("f5"), "\(error)")
        }
    }
}
