import Foundation
import PVecStore
import PVecTensor
import XCTest

/// Bundles, signing, trust and the audit log through the CLI.
final class BundleCLITests: CLITestCase {
    var other: URL { workDir.appendingPathComponent("other") }

    @discardableResult
    func on(_ reg: URL, _ args: [String], file: StaticString = #filePath, line: UInt = #line) throws -> CLIResult {
        let r = try pvec(args + ["--registry", reg.path], registry: false, env: ["PVEC_KEYS": keys, "PVEC_ACTOR": "tester"])
        XCTAssertEqual(r.status, 0, "pvec \(args.joined(separator: " ")): \(r.stderr)", file: file, line: line)
        return r
    }

    override func setUpWithError() throws {
        try super.setUpWithError()
        try ok("init")
        try ok("import", try write(TestData.npy(TestData.tensor(rows: 4, width: 6, seed: 1)), "i.npy"),
               "--name", "i", "--kind", "init", "--backbone", "toy")
        try ok("import", try write(TestData.npy(TestData.tensor(rows: 4, width: 6, seed: 2)), "a.npy"),
               "--name", "a", "--init", "i")
        try ok("vector", "a-tau", "--tuned", "a", "--init", "i")
        try on(other, ["init"])
    }

    func otherIDs() throws -> [String] {
        let r = try on(other, ["ls", "--json"])
        return (try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [[String: Any]]).map { $0["id"] as! String }.sorted()
    }

    func testBundleCarriesLineageSignaturesAndNames() throws {
        let pub = try pvec(["key", "generate", "--name", "alice"], registry: false, env: ["PVEC_KEYS": keys]).stdout
            .trimmingCharacters(in: .whitespacesAndNewlines)
        try on(registryDir, ["sign", "a-tau", "--key", "alice"])
        let out = workDir.appendingPathComponent("a.pvb").path
        try ok("bundle", "create", out, "a-tau")
        let r = try on(other, ["bundle", "import", out, "--prefix", "team-a/", "--json"])
        let j = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any]
        XCTAssertEqual(j["new_artifacts"] as? Int, 3, "the vector, its tuned prompt and its init")
        XCTAssertEqual(try otherIDs(), try artifactIDs())
        let show = try on(other, ["show", "team-a/a-tau", "--json"])
        let sigs = (try JSONSerialization.jsonObject(with: Data(show.stdout.utf8)) as! [String: Any])["signatures"] as! [[String: Any]]
        XCTAssertEqual(sigs.count, 1)
        XCTAssertEqual(sigs.first?["valid"] as? Bool, true)
        try on(other, ["trust", "add", pub, "--as", "team-a"])
        XCTAssertTrue(try on(other, ["show", "team-a/a-tau"]).stdout.contains("trusted as team-a"))
        // Objects already present are not written twice.
        let again = try on(other, ["bundle", "import", out, "--prefix", "team-a/", "--json"])
        let j2 = try JSONSerialization.jsonObject(with: Data(again.stdout.utf8)) as! [String: Any]
        XCTAssertEqual(j2["blobs_written"] as? Int, 0)
        // The import is in the audit log with its command.
        let audit = try on(other, ["audit", "team-a/a-tau"]).stdout
        XCTAssertTrue(audit.contains("bundle import"), audit)
        XCTAssertTrue(audit.contains("sign"), audit)
        try on(other, ["audit", "verify"])
        try on(other, ["verify"])
    }

    func testFlippedByteOrTruncatedBundleIsRefusedWithNothingImported() throws {
        let out = workDir.appendingPathComponent("a.pvb").path
        try ok("bundle", "create", out, "a-tau")
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: out)))
        let indexLength = Int(bytes[12]) | Int(bytes[13]) << 8
        bytes[20 + indexLength + 30] ^= 0x01
        let flipped = try write(bytes, "flipped.pvb")
        let log = try on(other, ["audit", "--json"]).stdout
        let r = try pvec(["bundle", "import", flipped, "--registry", other.path], registry: false)
        XCTAssertNotEqual(r.status, 0)
        XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr)
        XCTAssertTrue(r.stderr.contains("entry 1 (blob"), r.stderr)
        XCTAssertTrue(r.stderr.contains("nothing was imported"), r.stderr)
        XCTAssertEqual(try otherIDs(), [])
        XCTAssertEqual(try on(other, ["audit", "--json"]).stdout, log)
        let original = [UInt8](try Data(contentsOf: URL(fileURLWithPath: out)))
        let truncated = try write(Array(original.prefix(original.count - 200)), "trunc.pvb")
        let t = try pvec(["bundle", "import", truncated, "--registry", other.path], registry: false)
        XCTAssertNotEqual(t.status, 0)
        XCTAssertTrue(t.stderr.contains("truncated"), t.stderr)
        XCTAssertEqual(try otherIDs(), [])
    }

    func testAuditVerifyNamesATamperedEntry() throws {
        try ok("tag", "a", "best")
        try on(registryDir, ["audit", "verify"])
        let tamper = Process()
        tamper.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        tamper.arguments = ["python3", "-c", """
            import sqlite3, sys
            c = sqlite3.connect(sys.argv[1])
            c.executescript("DROP TRIGGER audit_log_no_update; UPDATE audit_log SET new_id = old_id WHERE seq = 2;")
            c.commit()
            """, registryDir.appendingPathComponent("catalog.sqlite").path]
        try tamper.run()
        tamper.waitUntilExit()
        XCTAssertEqual(tamper.terminationStatus, 0)
        try refused(["audit", "verify"], containing: "seq 2: edited")
    }

    func testSignatureRefusalsAreOneLine() throws {
        try refused(["sign", "a", "--key", "nobody"], containing: "no signing key 'nobody'")
        try refused(["trust", "add", "ed25519:notakey", "--as", "x"], containing: "not a pvec public key")
    }
}
