import Foundation
import PVecTensor
import XCTest
@testable import PVecStore

final class IntegrityTests: XCTestCase {
    func testCleanRegistryHasNoProblems() throws {
        let dir = try TempDir()
        let reg = try Registry.create(at: dir.url)
        let p = try Fixtures.prompt(reg, seed: 1)
        _ = try Fixtures.evaluation(reg, of: p, score: 0.5)
        XCTAssertEqual(try reg.checkIntegrity(), [])
        XCTAssertEqual(try reg.checkIntegrity(p), [])
    }

    func testMissingObjectsAndDanglingEdges() throws {
        let dir = try TempDir()
        let reg = try Registry.create(at: dir.url)
        let a = try Fixtures.prompt(reg, seed: 1)
        let b = try Fixtures.prompt(reg, seed: 2, kind: .vector, parents: [Parent(.operand, a)], op: "scale")
        let blobA = try reg.manifest(a).blob!
        try reg.objects.remove(blobA.hex)
        try reg.manifestObjects.remove(b.hex)
        // Remove a's catalog row behind the store's back (foreign keys off, as a damaged catalog might be).
        try reg.db.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA foreign_keys = OFF")
            try db.execute(sql: "DELETE FROM artifacts WHERE id = ?", arguments: [a.hex])
            try db.execute(sql: "PRAGMA foreign_keys = ON")
        }
        let problems = try reg.checkIntegrity()
        let summary = Set(problems.map { "\($0.kind.rawValue) \($0.subject)" })
        XCTAssertTrue(summary.contains("missingObject \(b.hex)"), "\(problems)")
        XCTAssertTrue(summary.contains("danglingReference \(b.hex)"), "\(problems)")
        XCTAssertTrue(summary.contains("notInCatalog \(a.hex)"), "\(problems)")
        XCTAssertTrue(problems.allSatisfy { !$0.message.isEmpty })
        XCTAssertTrue(problems.first { $0.kind == .danglingReference }!.message.contains(a.hex))
        XCTAssertEqual(try reg.checkIntegrity(b).map(\.kind).sorted { $0.rawValue < $1.rawValue }, [.danglingReference, .missingObject])
    }

    func testGCKeepsNamedHistoricTaggedClosures() throws {
        let dir = try TempDir()
        let reg = try Registry.create(at: dir.url)
        let initID = try Fixtures.prompt(reg, seed: 1, kind: .`init`)
        let tuned = try Fixtures.prompt(reg, seed: 2, parents: [Parent(.`init`, initID)])
        let vec = try Fixtures.prompt(reg, seed: 3, kind: .vector, parents: [Parent(.tuned, tuned), Parent(.`init`, initID)])
        let old = try Fixtures.prompt(reg, seed: 4)
        let tagged = try Fixtures.prompt(reg, seed: 5)
        let taggedParent = try Fixtures.prompt(reg, seed: 6)
        let taggedChild = try Fixtures.prompt(reg, seed: 7, parents: [Parent(.source, taggedParent)])
        let evalOfVec = try Fixtures.evaluation(reg, of: vec, score: 0.9)
        let orphan = try Fixtures.prompt(reg, seed: 8)
        let orphanChild = try Fixtures.prompt(reg, seed: 9, parents: [Parent(.source, orphan)])
        let evalOfOrphan = try Fixtures.evaluation(reg, of: orphan, score: 0.1)
        try reg.updateRef("task", to: old, command: "t")
        try reg.updateRef("task", to: vec, command: "t")   // old stays reachable through history
        try reg.addTag("keep", to: tagged, command: "t")
        try reg.addTag("keep2", to: taggedChild, command: "t")
        // A blob nobody uses, old enough to collect.
        let looseBlob = try reg.putBlob(Fixtures.normal([2, 2], seed: 10))

        let kept: Set<ArtifactID> = [initID, tuned, vec, old, tagged, taggedParent, taggedChild, evalOfVec]
        let gone: Set<ArtifactID> = [orphan, orphanChild, evalOfOrphan]
        let dry = try reg.gc(dryRun: true, gracePeriod: 0)
        XCTAssertEqual(Set(dry.removedArtifacts), gone)
        XCTAssertTrue(dry.dryRun)
        XCTAssertTrue(reg.hasArtifact(orphan), "dry run removes nothing")
        XCTAssertTrue(reg.hasBlob(looseBlob))

        let orphanBlobs = try [orphan, orphanChild].map { try reg.manifest($0).blob! }
        let report = try reg.gc(dryRun: false, gracePeriod: 0)
        XCTAssertEqual(Set(report.removedArtifacts), gone)
        XCTAssertEqual(Set(report.removedBlobs), Set(orphanBlobs + [looseBlob]))
        XCTAssertGreaterThan(report.bytesFreed, 0)
        for id in gone {
            XCTAssertFalse(reg.hasArtifact(id))
            XCTAssertFalse(reg.manifestObjects.contains(id.hex))
        }
        for blob in orphanBlobs { XCTAssertFalse(reg.hasBlob(blob)) }
        for id in kept {
            XCTAssertTrue(reg.hasArtifact(id))
            if let blob = try reg.manifest(id).blob { XCTAssertTrue(reg.hasBlob(blob)) }
        }
        XCTAssertEqual(try reg.checkIntegrity(), [])
        XCTAssertEqual(try reg.gc(dryRun: false, gracePeriod: 0).removedArtifacts, [], "nothing left to collect")

        // With the default grace period a fresh unused blob survives (another writer may be about to use it).
        let fresh = try reg.putBlob(Fixtures.normal([2, 2], seed: 11))
        XCTAssertEqual(try reg.gc(dryRun: false).removedBlobs, [])
        XCTAssertTrue(reg.hasBlob(fresh))
    }

    func testRebuildCatalogRestoresEverything() throws {
        let dir = try TempDir()
        var reg: Registry? = try Registry.create(at: dir.url)
        let a = try Fixtures.prompt(reg!, seed: 1)
        let b = try Fixtures.prompt(reg!, seed: 2, kind: .vector, parents: [Parent(.operand, a)], op: "scale")
        try reg!.updateRef("x", to: a, command: "one")
        try reg!.updateRef("x", to: b, command: "two")
        try reg!.addTag("best", to: a, command: "tag")
        let listBefore = try reg!.list()

        // Rebuild in place keeps everything.
        XCTAssertEqual(try reg!.rebuildCatalog(), 2)
        XCTAssertEqual(try reg!.list(), listBefore)
        XCTAssertEqual(try reg!.resolve("x@1"), a)

        // Lose the catalog entirely: names come back from logs/refs.
        reg = nil
        for suffix in ["", "-wal", "-shm"] {
            try? FileManager.default.removeItem(at: dir.url.appendingPathComponent("catalog.sqlite" + suffix))
        }
        XCTAssertStoreError(try Registry.open(at: dir.url)) { $0 == .catalogMissing(path: dir.url.standardizedFileURL.path) }
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.url.appendingPathComponent("catalog.sqlite").path))
        let repaired = try Registry.repairCatalog(at: dir.url)
        reg = repaired.0
        XCTAssertEqual(repaired.1.manifests, 2)
        XCTAssertEqual(repaired.1.newlyIndexed, 2)
        XCTAssertEqual(try reg!.resolve("x"), b)
        XCTAssertEqual(try reg!.resolve("x@1"), a)
        XCTAssertEqual(try reg!.refHistory("x").map(\.command), ["one", "two"])
        XCTAssertEqual(try reg!.tags(of: a), ["best"])
        XCTAssertEqual(try reg!.lineage(of: b).edges.count, 1)
        XCTAssertEqual(try reg!.checkIntegrity(), [])
        XCTAssertEqual(try reg!.log().first?.action, "rebuild-catalog")
    }

    func testCrashLeftovers() throws {
        let dir = try TempDir()
        let a: ArtifactID
        let orphan: Manifest
        do {
            let reg = try Registry.create(at: dir.url)
            a = try Fixtures.prompt(reg, seed: 1)
            // A manifest object whose catalog insert never happened (killed in between).
            let blob = try reg.putBlob(Fixtures.normal([4, 8], seed: 2))
            orphan = Manifest(kind: .prompt, blob: blob, shape: [4, 8], backbone: nil, recipe: Recipe(op: "import"))
            try reg.manifestObjects.write(orphan.canonicalBytes, as: orphan.id.hex)
        }
        // Stray temp files: one from a dead writer, one old, one from a live writer (us).
        let folder = dir.url.appendingPathComponent("objects/\(a.hex.prefix(2))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let dead = folder.appendingPathComponent("tmp_2147483646_1")
        let old = folder.appendingPathComponent("tmp_\(getpid())_2")
        let live = folder.appendingPathComponent("tmp_\(getpid())_3")
        for u in [dead, old, live] { try Data([1, 2, 3]).write(to: u) }
        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSinceNow: -7200)], ofItemAtPath: old.path)

        let reg = try Registry.open(at: dir.url)
        XCTAssertEqual(Set(reg.staleTempFiles().map(\.lastPathComponent)), ["tmp_2147483646_1", "tmp_\(getpid())_2"])
        reg.removeStaleTempFiles()
        XCTAssertFalse(FileManager.default.fileExists(atPath: dead.path), "dead writer's temp file is cleaned")
        XCTAssertFalse(FileManager.default.fileExists(atPath: old.path), "old temp file is cleaned")
        XCTAssertTrue(FileManager.default.fileExists(atPath: live.path), "a live writer's temp file is left alone")
        XCTAssertEqual(try reg.list().map(\.id), [a], "catalog is consistent; temp files are not objects")
        XCTAssertEqual(try reg.checkIntegrity().map { "\($0.kind.rawValue) \($0.subject)" }, ["notInCatalog \(orphan.id.hex)"])
        XCTAssertEqual(try reg.checkIntegrity(orphan.id).map(\.kind), [.notInCatalog])
        // gc never deletes uncatalogued manifests (they may be all that is left of a lost catalog).
        _ = try reg.gc(dryRun: false, gracePeriod: 0)
        XCTAssertTrue(reg.manifestObjects.contains(orphan.id.hex))
        XCTAssertTrue(reg.hasBlob(orphan.blob!))
        // Repair: writing the manifest again (or rebuilding) indexes it.
        XCTAssertEqual(try reg.writeManifest(orphan), orphan.id)
        XCTAssertEqual(try reg.checkIntegrity(), [])
    }

    func testNotARegistryAndNotWritable() throws {
        let dir = try TempDir()
        XCTAssertStoreError(try Registry.open(at: dir.url)) {
            $0 == .notARegistry(path: dir.url.path) && $0.localizedDescription.contains("pvec init")
        }
        // A registry root below a regular file cannot be created.
        let file = dir.url.appendingPathComponent("plain-file")
        try Data("x".utf8).write(to: file)
        XCTAssertStoreError(try Registry.create(at: file.appendingPathComponent("reg"))) {
            if case .notWritable = $0 { return true } else { return false }
        }
        // A registry whose objects/manifests folders are files: writes fail cleanly, nothing half-done.
        let root = dir.url.appendingPathComponent("reg")
        let reg = try Registry.create(at: root)
        let a = try Fixtures.prompt(reg, seed: 1)
        XCTAssertEqual(try Registry.create(at: root).root, reg.root, "create is idempotent")
        try FileManager.default.removeItem(at: root.appendingPathComponent("objects"))
        try Data().write(to: root.appendingPathComponent("objects"))
        XCTAssertStoreError(try reg.putBlob(Fixtures.normal([4, 8], seed: 2))) {
            if case .notWritable(let path, _) = $0 { return path.hasSuffix("objects") || path.contains("objects/") } else { return false }
        }
        try FileManager.default.removeItem(at: root.appendingPathComponent("manifests"))
        try Data().write(to: root.appendingPathComponent("manifests"))
        let eval = Manifest(kind: .evaluation, blob: nil, shape: nil, backbone: nil, parents: [Parent(.evaluated, a)],
                            recipe: Recipe(op: "eval"))
        XCTAssertStoreError(try reg.writeManifest(eval)) {
            if case .notWritable = $0 { return $0.localizedDescription.contains("manifests") } else { return false }
        }
        XCTAssertFalse(reg.hasArtifact(eval.id), "no catalog row without its object")
        XCTAssertEqual(try reg.list().count, 1)

        // Read-only opens refuse writes up front.
        let ro = try Registry.open(at: root, configuration: .init(readonly: true))
        XCTAssertEqual(try ro.resolve(a.hex), a)
        XCTAssertStoreError(try ro.updateRef("x", to: a, command: "t")) {
            if case .notWritable = $0 { return true } else { return false }
        }
    }
}
