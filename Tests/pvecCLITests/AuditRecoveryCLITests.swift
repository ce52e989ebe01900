import Foundation
import PVecStore
import PVecTensor
import XCTest

/// The audit chain, its anchor in logs/refs, the trust store, and `pvec verify --repair`,
/// tried as a tamperer with file access and as a user whose catalog was lost.
final class AuditRecoveryCLITests: CLITestCase {
    var catalog: URL { registryDir.appendingPathComponent("catalog.sqlite") }
    var refLog: URL { registryDir.appendingPathComponent("logs/refs") }

    /// The 0004 chain trigger, to put back after a tamperer dropped it.
    static let chainTrigger = """
        CREATE TRIGGER audit_log_chain BEFORE INSERT ON audit_log
        WHEN NEW.hash IS NULL OR length(NEW.hash) != 64
            OR NEW.prev_hash IS NOT (SELECT hash FROM audit_log WHERE hash IS NOT NULL ORDER BY seq DESC LIMIT 1)
        BEGIN SELECT RAISE(ABORT, 'audit_log rows must extend the hash chain'); END;
        """
    static let dropTriggers = "DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete; DROP TRIGGER audit_log_chain;"

    /// Runs SQL on a catalog behind pvec's back; returns the rows of the last statement as text.
    @discardableResult
    func sql(_ script: String, on db: URL? = nil, attach: URL? = nil) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", "-c", """
            import sqlite3, sys
            c = sqlite3.connect(sys.argv[1])
            if sys.argv[3]: c.execute("ATTACH DATABASE ? AS other", (sys.argv[3],))
            stmts = [s for s in sys.argv[2].split(";;") if s.strip()]
            for s in stmts[:-1]: c.executescript(s)
            for row in c.execute(stmts[-1]): print("|".join("" if v is None else str(v) for v in row))
            c.commit()
            """, (db ?? catalog).path, script, attach?.path ?? ""]
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0, "sql failed: \(script)")
        return String(decoding: data, as: UTF8.self)
    }

    func show(_ spec: String) throws -> [String: Any] {
        try json("show", spec) as! [String: Any]
    }

    func names() throws -> [String: String] {
        let list = try json("ls") as! [[String: Any]]
        var out: [String: String] = [:]
        for a in list { for n in a["names"] as? [String] ?? [] { out[n] = a["id"] as? String } }
        return out
    }

    // MARK: - Item 4: the audit chain

    func testNullHashRowIsABreakAndIsNeverHashedIntoTheChain() throws {
        try makeToyRegistry(prompts: ["a"])
        try ok("audit", "verify")
        try sql("DROP TRIGGER audit_log_chain; INSERT INTO audit_log (time, action, name, command) VALUES (1, 'create-ref', 'forged', 'pvec forged');"
                + Self.chainTrigger + ";; SELECT 1")
        try refused(["audit", "verify"], containing: "unchained")
        // The next ordinary write links past the row and leaves it without a hash.
        try ok("tag", "a", "best")
        XCTAssertEqual(try sql("SELECT count(*) FROM audit_log WHERE hash IS NULL").trimmingCharacters(in: .whitespacesAndNewlines), "1")
        let r = try refused(["audit", "verify"], containing: "unchained")
        XCTAssertTrue(r.stdout.contains("1 problem"), r.stdout)
        XCTAssertNotEqual(try pvec(["verify"]).status, 0, "pvec verify reports the broken chain too")
    }

    func testUpdatesOfAuditRowsAreRefused() throws {
        try makeToyRegistry(prompts: ["a"])
        // 0002 let a row without a hash be filled in; 0004 refuses every update.
        try sql("DROP TRIGGER audit_log_chain; INSERT INTO audit_log (time, action, command) VALUES (1, 'x', 'forged');"
                + Self.chainTrigger + ";; SELECT 1")
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", "-c", """
            import sqlite3, sys
            c = sqlite3.connect(sys.argv[1])
            c.execute("UPDATE audit_log SET hash = printf('%064d', 0), prev_hash = NULL WHERE hash IS NULL")
            c.commit()
            """, catalog.path]
        p.standardError = Pipe()
        try p.run()
        p.waitUntilExit()
        XCTAssertNotEqual(p.terminationStatus, 0, "filling in a hash must be refused")
    }

    func testCutOffEndOfTheAuditLogIsDetected() throws {
        try makeToyRegistry(prompts: ["a", "b"])
        try ok("tag", "a", "best")
        try ok("audit", "verify")
        try sql(Self.dropTriggers + " DELETE FROM audit_log WHERE seq > (SELECT max(seq) - 2 FROM audit_log);;SELECT 1")
        let r = try pvec(["audit", "verify"])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stdout.contains("truncated") && r.stdout.contains("cut off"), r.stdout)
    }

    func testRewrittenChainIsDetected() throws {
        try makeToyRegistry(prompts: ["a", "b"])
        // Another registry's chain is valid on its own; put it in place of this one's.
        let other = workDir.appendingPathComponent("other")
        try on(other, "init")
        let init2 = try write(TestData.npy(TestData.tensor(rows: 4, width: 6, seed: 40)), "o.npy")
        for n in ["x", "y", "z", "w"] {
            try on(other, "import", init2, "--name", n, "--kind", "init", "--backbone", "toy")
        }
        try on(other, "audit", "verify")
        try sql(Self.dropTriggers + " DELETE FROM audit_log; INSERT INTO audit_log SELECT * FROM other.audit_log;;SELECT 1",
                attach: other.appendingPathComponent("catalog.sqlite"))
        let r = try pvec(["audit", "verify"])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stdout.contains("rewritten") && r.stdout.contains("logs/refs recorded"), r.stdout)
    }

    func testTrustStoreEditedBehindPVecsBackIsDetected() throws {
        try makeToyRegistry(prompts: ["a"])
        let pub = try pvec(["key", "generate", "--name", "alice"], registry: false, env: ["PVEC_KEYS": keys]).stdout
            .trimmingCharacters(in: .whitespacesAndNewlines)
        try ok("trust", "add", pub, "--as", "team-a")
        try ok("audit", "verify")
        try ok("verify")
        try sql("UPDATE trusted_keys SET team = 'team-b';;SELECT 1")
        var r = try refused(["audit", "verify"], containing: "trusted_keys")
        XCTAssertTrue(r.stdout.contains("trusted it as 'team-a'"), r.stdout)
        r = try pvec(["verify"])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stdout.contains("trusted_keys"), r.stdout)
        // Put it back, then slip in a key the chain never trusted.
        try sql("UPDATE trusted_keys SET team = 'team-a'; INSERT INTO trusted_keys VALUES ('ed25519:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=', 'team-a', 1);;SELECT 1")
        r = try refused(["audit", "verify"], containing: "trusted_keys")
        XCTAssertTrue(r.stdout.contains("never recorded trusting it"), r.stdout)
        // Removing through pvec is recorded, and the chain then agrees again.
        try sql("DELETE FROM trusted_keys WHERE key LIKE 'ed25519:AAAA%';;SELECT 1")
        try ok("trust", "remove", pub)
        try ok("audit", "verify")
        XCTAssertEqual((try json("trust", "list") as? [Any])?.count, 0)
    }

    // MARK: - Item 8: recovery

    func testLostCatalogIsRebuiltWithNamesHistoryTagsAndTrust() throws {
        try makeToyRegistry(prompts: ["a", "b"])
        let a1 = try show("a")["id"] as! String
        let b1 = try show("b")["id"] as! String
        try ok("import", try write(TestData.npy(TestData.tensor(rows: 4, width: 6, seed: 30)), "a2.npy"), "--name", "a", "--init", "i")
        let a2 = try show("a")["id"] as! String
        try ok("tag", "b", "best")
        let pub = try pvec(["key", "generate", "--name", "alice"], registry: false, env: ["PVEC_KEYS": keys]).stdout
            .trimmingCharacters(in: .whitespacesAndNewlines)
        try ok("trust", "add", pub, "--as", "team-a")
        XCTAssertEqual(try pvec(["sign", "b", "--key", "alice"], env: ["PVEC_KEYS": keys]).status, 0)
        let namesBefore = try names()
        let oldHead = (try json("audit", "verify") as! [String: Any])["head"] as! String

        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(at: URL(fileURLWithPath: catalog.path + suffix)) }
        try refused(["verify"], containing: "run `pvec verify --repair`")
        try refused(["ls"], containing: "catalog")
        try refused(["init"], containing: "pvec verify --repair")
        XCTAssertFalse(FileManager.default.fileExists(atPath: catalog.path), "init must not make an empty catalog")

        let r = try pvec(["verify", "--repair"])
        XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
        XCTAssertTrue(r.stdout.contains("repaired catalog"), r.stdout)
        XCTAssertTrue(r.stdout.contains(String(oldHead.prefix(16))), "the repair names the old chain's head: \(r.stdout)")
        XCTAssertEqual(try names(), namesBefore)
        XCTAssertEqual(try show("a@1")["id"] as? String, a1)
        XCTAssertEqual(try show("a@2")["id"] as? String, a2)
        XCTAssertEqual(try show("best")["id"] as? String, b1)
        let keysAfter = try json("trust", "list") as! [[String: Any]]
        XCTAssertEqual(keysAfter.map { $0["team"] as? String }, ["team-a"])
        XCTAssertTrue(try ok("show", "b").contains("trusted as team-a"))
        let audit = try json("audit", "verify") as! [String: Any]
        XCTAssertEqual(audit["intact"] as? Bool, true)
        let previous = audit["previous_chains"] as! [[String: Any]]
        XCTAssertEqual(previous.first?["hash"] as? String, oldHead)
        try ok("verify")
        // Writing works on the repaired registry, and a second loss is repaired as well.
        try ok("tag", "a", "latest")
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(at: URL(fileURLWithPath: catalog.path + suffix)) }
        try ok("verify", "--repair")
        XCTAssertEqual(try show("latest")["id"] as? String, a2)
        XCTAssertEqual(try show("a@1")["id"] as? String, a1)
        try ok("audit", "verify")
    }

    func testUncommittedRefLogTransactionIsNotResurrected() throws {
        try makeToyRegistry(prompts: ["a"])
        let a = try show("a")["id"] as! String
        // A writer killed between its ref-log append and its SQLite COMMIT leaves this behind.
        let txn = String(repeating: "ab", count: 16)
        let ghost = """
            {"action":"ref","command":"pvec import ghost","name":"ghost","new":"\(a)","old":null,"time":1,"txn":"\(txn)","version":1}
            {"action":"tag","command":"pvec tag a ghost-tag","id":"\(a)","tag":"ghost-tag","time":1,"txn":"\(txn)"}
            {"action":"prepare","head":"\(String(repeating: "0", count: 64))","prev":null,"seq":99,"txn":"\(txn)"}

            """
        let h = try FileHandle(forWritingTo: refLog)
        h.seekToEndOfFile()
        h.write(Data(ghost.utf8))
        try h.close()
        try ok("audit", "verify")
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(at: URL(fileURLWithPath: catalog.path + suffix)) }
        let r = try pvec(["verify", "--repair"])
        XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
        XCTAssertTrue(r.stdout.contains("left out"), r.stdout)
        XCTAssertTrue(r.stdout.contains("ghost@1"), r.stdout)
        XCTAssertEqual(Set(try names().keys), ["a", "i"])
        try refused(["show", "ghost-tag"], containing: "ghost-tag")
        try ok("audit", "verify")
    }

    func testRepairIndexesManifestsACrashLeftUnindexed() throws {
        try makeToyRegistry(prompts: ["a"])
        // A manifest object written just before a crash: the catalog never indexed it.
        let registry = try Registry.open(at: registryDir)
        let blob = try registry.putBlob(TestData.tensor(rows: 4, width: 6, seed: 50))
        let m = Manifest(kind: .prompt, blob: blob, shape: [4, 6], backbone: Backbone(model: "toy", width: 6),
                         recipe: Recipe(op: "import", params: ["crash": "left behind"]))
        let id = m.id
        let path = registryDir.appendingPathComponent("manifests/\(id.hex.prefix(2))/\(id.hex.dropFirst(2))")
        try FileManager.default.createDirectory(at: path.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(m.canonicalBytes).write(to: path)
        let before = try pvec(["verify"])
        XCTAssertNotEqual(before.status, 0)
        XCTAssertTrue(before.stdout.contains("pvec verify --repair"), before.stdout)
        let r = try pvec(["verify", "--repair"])
        XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
        XCTAssertTrue(r.stdout.contains("1 newly indexed"), r.stdout)
        XCTAssertTrue(try artifactIDs().contains(id.hex))
        try ok("audit", "verify")
    }

    // MARK: - Item 5 (verify half) and item 10

    func testVerifyChecksEveryManifestAgainstASharedBlob() throws {
        try makeToyRegistry(prompts: ["a"])
        let registry = try Registry.open(at: registryDir)
        let honest = try registry.resolve("a")
        let blob = try registry.manifest(honest).blob!
        // Liars whose ids sort after the honest manifest, so a check of the blob's first user passes.
        var liars: [ArtifactID] = []
        var n: Int64 = 0
        while liars.count < 2 {
            n += 1
            let m = Manifest(kind: .prompt, blob: blob, shape: liars.isEmpty ? [6, 4] : [3, 8], backbone: nil,
                             recipe: Recipe(op: "import", params: ["n": .int(n)]))
            guard m.id.hex > honest.hex else { continue }
            liars.append(try registry.writeManifest(m))
        }
        let r = try pvec(["verify"])
        XCTAssertNotEqual(r.status, 0)
        for liar in liars {
            XCTAssertTrue(r.lines.contains { $0.hasPrefix("problem  \(liar.hex.prefix(12))") && $0.contains("shape") }, r.stdout)
        }
        XCTAssertFalse(r.stdout.contains("problem  \(honest.hex.prefix(12))"), r.stdout)
    }

    func testVerifySummaryCountsSignatureProblems() throws {
        try makeToyRegistry(prompts: ["a"])
        try pvec(["key", "generate", "--name", "alice"], registry: false, env: ["PVEC_KEYS": keys])
        XCTAssertEqual(try pvec(["sign", "a", "--key", "alice"], env: ["PVEC_KEYS": keys]).status, 0)
        try ok("verify")
        // Swap the signature's last bytes: it no longer verifies.
        try sql("UPDATE signatures SET signature = substr(signature, 1, 10) || 'AAAA' || substr(signature, 15);;SELECT 1")
        let r = try pvec(["verify"])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stdout.contains("problem  "), r.stdout)
        XCTAssertTrue(r.stdout.contains(", 1 problem"), r.stdout)
        XCTAssertFalse(r.stdout.contains("0 problems"), r.stdout)
    }
}
