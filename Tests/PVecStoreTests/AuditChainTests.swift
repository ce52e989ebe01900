import Foundation
import PVecStore
import XCTest

final class AuditChainTests: XCTestCase {
    func makeLog(_ dir: TempDir) throws -> Registry {
        let reg = try Registry.create(at: dir.url)
        let a = try Fixtures.prompt(reg, seed: 1), b = try Fixtures.prompt(reg, seed: 2)
        try reg.updateRef("x", to: a, command: "one", actor: "alice")
        try reg.updateRef("x", to: b, command: "two", actor: "bob")
        try reg.addTag("best", to: b, command: "three")
        try reg.updateRef("y", to: a, command: "four")
        return reg
    }

    func testChainIsIntactAndLinked() throws {
        let dir = try TempDir()
        let reg = try makeLog(dir)
        let r = try reg.verifyAuditLog()
        XCTAssertEqual(r.entries, 4)
        XCTAssertEqual(r.problems, [])
        let log = try reg.log()
        XCTAssertEqual(log.first?.hash, r.head)
        XCTAssertEqual(log.last?.actor, "alice")
        XCTAssertTrue(log.allSatisfy { $0.hash?.count == 64 })
        XCTAssertEqual(try reg.audit(name: "x").map(\.command), ["two", "one"])
    }

    /// A push's tag moves go in as one transaction per group: every row chained, in the
    /// order given, each with its own names and digests.
    func testRemoteTagMovesOfOneGroupAreChainedInOrder() throws {
        let dir = try TempDir()
        let reg = try makeLog(dir)
        let a = try Fixtures.prompt(reg, seed: 3), b = try Fixtures.prompt(reg, seed: 4)
        let moves = [
            Registry.RemoteTagMove(remote: "oci://h/r", tag: "p1 (_v1.p1)", name: "p1", oldDigest: nil, newDigest: "sha256:11",
                                   oldID: nil, newID: a),
            Registry.RemoteTagMove(remote: "oci://h/r", tag: "p2 (_v3.p2)", name: "p2", oldDigest: "sha256:22", newDigest: "sha256:33",
                                   oldID: a, newID: b),
            Registry.RemoteTagMove(remote: "oci://h/r", tag: "p3 (_v1.p3)", name: "p3", oldDigest: nil, newDigest: "sha256:44",
                                   oldID: nil, newID: b),
        ]
        try reg.recordRemoteTagMoves(moves, command: "pvec push r p1 p2 p3", actor: "carol")
        try reg.recordRemoteTagMoves([], command: "nothing")
        let rows = try reg.log(limit: 3).reversed()
        XCTAssertEqual(rows.map(\.name), ["p1", "p2", "p3"])
        XCTAssertEqual(rows.map(\.action), ["remote-tag", "remote-tag", "remote-tag"])
        XCTAssertEqual(rows.map(\.oldID), [nil, a, nil])
        XCTAssertEqual(rows.map(\.newID), [a, b, b])
        XCTAssertEqual(rows.map(\.actor), ["carol", "carol", "carol"])
        XCTAssertEqual(Array(rows)[1].command, "pvec push r p1 p2 p3 [remote oci://h/r tag p2 (_v3.p2) sha256:22 -> sha256:33]")
        let r = try Registry.open(at: dir.url).verifyAuditLog()
        XCTAssertEqual(r.entries, 7, "the empty group wrote no row")
        XCTAssertEqual(r.problems, [])
    }

    func testTriggersRefuseAnUnchainedInsertAndUpdates() throws {
        let dir = try TempDir()
        _ = try makeLog(dir)
        // Without the triggers dropped, sqlite refuses both (exit status non-zero).
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", "-c", "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute(\"INSERT INTO audit_log (time, action, command) VALUES (1, 'x', 'forged')\"); c.commit()",
                       dir.url.appendingPathComponent("catalog.sqlite").path]
        p.standardError = Pipe()
        try p.run()
        p.waitUntilExit()
        XCTAssertNotEqual(p.terminationStatus, 0, "an insert without a hash must be refused")
    }

    func testEditedEntryIsNamed() throws {
        let dir = try TempDir()
        _ = try makeLog(dir)
        try tamper(dir.url, dropAuditTriggers + "UPDATE audit_log SET command = 'forged' WHERE seq = 2;")
        let r = try Registry.open(at: dir.url).verifyAuditLog()
        XCTAssertEqual(r.problems.map(\.kind), [.edited])
        XCTAssertEqual(r.problems.first?.sequence, 2)
    }

    func testRemovedEntryIsNamed() throws {
        let dir = try TempDir()
        _ = try makeLog(dir)
        try tamper(dir.url, dropAuditTriggers + "DELETE FROM audit_log WHERE seq = 2;")
        let r = try Registry.open(at: dir.url).verifyAuditLog()
        XCTAssertEqual(r.problems.map(\.kind), [.removed])
        XCTAssertEqual(r.problems.first?.sequence, 3)
        XCTAssertTrue(r.problems[0].message.contains("between seq 1 and 3"), r.problems[0].message)
    }

    func testReorderedEntriesAreNamed() throws {
        let dir = try TempDir()
        _ = try makeLog(dir)
        // Swap rows 2 and 3 whole (content and hashes), as a tamperer reordering history would.
        try tamper(dir.url, dropAuditTriggers + """
            UPDATE audit_log SET seq = 100 WHERE seq = 2;
            UPDATE audit_log SET seq = 2 WHERE seq = 3;
            UPDATE audit_log SET seq = 3 WHERE seq = 100;
            """)
        let r = try Registry.open(at: dir.url).verifyAuditLog()
        XCTAssertTrue(r.problems.contains { $0.kind == .reordered }, "\(r.problems)")
        XCTAssertFalse(r.problems.contains { $0.kind == .edited }, "\(r.problems)")
    }

    func testRowsWithoutHashStayUnchainedAfterTheNextWrite() throws {
        let dir = try TempDir()
        let reg = try makeLog(dir)
        // Rows without hashes (written before 0002, or forged): never hashed into the chain later.
        try tamper(dir.url, dropAuditTriggers + "UPDATE audit_log SET hash = NULL, prev_hash = NULL WHERE seq = 4;")
        XCTAssertEqual(try reg.verifyAuditLog().problems.map(\.kind), [.unchained])
        try reg.updateRef("z", to: try reg.resolve("x"), command: "five")
        let r = try reg.verifyAuditLog()
        XCTAssertEqual(r.entries, 5)
        XCTAssertEqual(r.problems.map(\.kind), [.unchained])
        XCTAssertEqual(try reg.log().filter { $0.hash == nil }.map(\.sequence), [4])
    }

    func testRolledBackBatchIsNotReplayedByARebuild() throws {
        let dir = try TempDir()
        let reg = try makeLog(dir)
        let a = try reg.resolve("x@1")
        // Two names in one transaction; the second conflicts, so neither is set.
        let batch = IncomingBatch(refs: [(name: "fresh", id: a, expected: .some(nil)), (name: "x", id: a, expected: .some(nil))])
        XCTAssertThrowsError(try reg.receive(batch, source: "test", command: "batch"))
        XCTAssertThrowsError(try reg.resolve("fresh"))
        try tamper(dir.url, "DELETE FROM tags; DELETE FROM ref_history; DELETE FROM refs;")
        try reg.rebuildCatalog()
        XCTAssertThrowsError(try reg.resolve("fresh"), "a rolled-back name must not come back")
        XCTAssertEqual(try reg.resolve("y"), a)
    }

    /// A writer killed after its COMMIT but before its commit record: the next write settles it
    /// (its prepare names that head), or the catalog's audit rows do.
    func testCommitWithoutCommitRecordIsKept() throws {
        let dir = try TempDir()
        let reg = try makeLog(dir)
        let a = try reg.resolve("x@1")
        let log = dir.url.appendingPathComponent("logs/refs")
        func dropLastCommitRecord() throws {
            var lines = try String(contentsOf: log, encoding: .utf8).split(separator: "\n").map(String.init)
            XCTAssertTrue(lines.last?.contains("\"action\":\"commit\"") == true)
            lines.removeLast()
            try (lines.joined(separator: "\n") + "\n").write(to: log, atomically: true, encoding: .utf8)
        }
        try reg.updateRef("late", to: a, command: "late")
        try dropLastCommitRecord()
        XCTAssertEqual(try reg.verifyAuditLog().problems, [])
        // The catalog's audit rows show the transaction committed.
        try tamper(dir.url, "DELETE FROM tags; DELETE FROM ref_history; DELETE FROM refs;")
        XCTAssertEqual(try reg.repair().skippedTransactions, [])
        XCTAssertEqual(try reg.resolve("late"), a)
        // With the catalog lost, a later write's prepare record settles it.
        try reg.updateRef("later", to: a, command: "later")
        try dropLastCommitRecord()
        try reg.addTag("t", to: a, command: "tag")
        for suffix in ["", "-wal", "-shm"] {
            try? FileManager.default.removeItem(at: dir.url.appendingPathComponent("catalog.sqlite" + suffix))
        }
        let (fresh, report) = try Registry.repairCatalog(at: dir.url)
        XCTAssertEqual(report.skippedTransactions, [])
        XCTAssertEqual(try fresh.resolve("late"), a)
        XCTAssertEqual(try fresh.resolve("later"), a)
        XCTAssertEqual(try fresh.verifyAuditLog().problems, [])
    }
}
