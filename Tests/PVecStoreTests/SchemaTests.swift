import Foundation
import GRDB
import PVecTensor
import XCTest
@testable import PVecStore

/// Checks the code against `registry-schema/`.
final class SchemaTests: XCTestCase {
    static let schemaDir = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("registry-schema", isDirectory: true)

    func testEmbeddedMigrationsEqualFiles() throws {
        let dir = Self.schemaDir.appendingPathComponent("migrations")
        let files = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".sql") }.sorted()
        XCTAssertEqual(files, CatalogSchema.knownIDs.map { $0 + ".sql" }, "one file per migration, same ids, same order")
        XCTAssertEqual(CatalogSchema.knownIDs, CatalogSchema.knownIDs.sorted(), "ids sort in application order")
        for (id, sql) in CatalogSchema.migrations {
            let file = try Data(contentsOf: dir.appendingPathComponent(id + ".sql"))
            XCTAssertEqual(Array(file), Array(sql.utf8), "\(id): embedded SQL differs from the file")
        }
    }

    func testCatalogHasTheDocumentedTables() throws {
        let dir = try TempDir()
        let reg = try Registry.create(at: dir.url)
        let tables = try reg.db.read { db in
            try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
        }
        XCTAssertEqual(tables, ["artifacts", "audit_anchor", "audit_log", "edges", "grdb_migrations", "pins", "ref_history", "refs", "signatures",
                                "tags", "tokens", "trusted_keys"])
        let readme = try String(contentsOf: Self.schemaDir.appendingPathComponent("README.md"), encoding: .utf8)
        for t in tables where t != "grdb_migrations" { XCTAssertTrue(readme.contains("`\(t)`"), "README documents \(t)") }
        let journal = try reg.db.read { try String.fetchOne($0, sql: "PRAGMA journal_mode") }
        XCTAssertEqual(journal, "wal")
        let fk = try reg.db.read { try Int.fetchOne($0, sql: "PRAGMA foreign_keys") }
        XCTAssertEqual(fk, 1)
        // The audit log is append-only.
        let a = try Fixtures.prompt(reg, seed: 1)
        try reg.updateRef("x", to: a, command: "t")
        XCTAssertThrowsError(try reg.db.write { try $0.execute(sql: "DELETE FROM audit_log") })
        XCTAssertThrowsError(try reg.db.write { try $0.execute(sql: "UPDATE audit_log SET command = 'forged'") })
    }

    func testNewerCatalogIsRefused() throws {
        let dir = try TempDir()
        do {
            let reg = try Registry.create(at: dir.url)
            try reg.db.write { try $0.execute(sql: "INSERT INTO grdb_migrations (identifier) VALUES ('9999_from_the_future')") }
        }
        XCTAssertStoreError(try Registry.open(at: dir.url)) {
            $0 == .newerSchema(path: dir.url.standardizedFileURL.path, unknownMigrations: ["9999_from_the_future"])
                && $0.localizedDescription.contains("upgrade pvec")
        }
        XCTAssertStoreError(try Registry.open(at: dir.url, configuration: .init(readonly: true))) {
            if case .newerSchema = $0 { return true } else { return false }
        }
    }

    func testJSONSchemaEnumsMatchTheCode() throws {
        let schema = try JSONValue.parse(Data(contentsOf: Self.schemaDir.appendingPathComponent("manifest.schema.json")))
        XCTAssertEqual(schema["$schema"]?.stringValue, "https://json-schema.org/draft/2020-12/schema")
        let kinds = schema["properties"]?["kind"]?["enum"]?.arrayValue?.compactMap(\.stringValue)
        XCTAssertEqual(kinds, ArtifactKind.allCases.map(\.rawValue))
        let roles = schema["properties"]?["parents"]?["items"]?["properties"]?["role"]?["enum"]?.arrayValue?.compactMap(\.stringValue)
        XCTAssertEqual(roles, ParentRole.allCases.map(\.rawValue))
        XCTAssertEqual(schema["properties"]?["schema"]?["const"]?.intValue, Int64(Manifest.currentSchema))
        let promptShaped = schema["allOf"]?.arrayValue?.first?["if"]?["properties"]?["kind"]?["enum"]?.arrayValue?.compactMap(\.stringValue)
        XCTAssertEqual(promptShaped, ArtifactKind.allCases.filter(\.isPromptShaped).map(\.rawValue))
        let fields = schema["properties"]?.objectValue?.keys.sorted()
        XCTAssertEqual(fields, Fixtures.fullManifest().json.objectValue?.keys.sorted())
    }

    /// Validates manifests made by the code with python3's jsonschema, and checks that
    /// broken ones are rejected (so the check can fail). Fails if python3/jsonschema are missing.
    func testManifestsValidateAgainstJSONSchema() throws {
        let dir = try TempDir()
        let reg = try Registry.create(at: dir.url)
        let p = try Fixtures.prompt(reg, seed: 1, kind: .`init`, op: "vocab-sample")
        let v = try Fixtures.prompt(reg, seed: 2, kind: .vector, parents: [Parent(.tuned, p), Parent(.`init`, p)], op: "vector")
        let e = try Fixtures.evaluation(reg, of: v, score: 0.5)
        var good = try [p, v, e].map { try reg.manifest($0).canonicalBytes }
        good.append(Fixtures.fullManifest().canonicalBytes)
        let bad: [String] = [
            #"{"schema":1,"kind":"prompt","parents":[],"recipe":{"op":"x","params":{}},"metrics":{}}"#,          // prompt without blob
            #"{"schema":1,"kind":"banana","parents":[],"recipe":{"op":"x","params":{}},"metrics":{}}"#,          // unknown kind
            #"{"schema":1,"kind":"evaluation","parents":[{"role":"friend","id":"\#(p.hex)"}],"recipe":{"op":"x","params":{}},"metrics":{}}"#,
            #"{"schema":1,"kind":"evaluation","parents":[],"recipe":{"op":"x","params":{}},"metrics":{},"extra":1}"#,
        ]
        for s in bad { XCTAssertThrowsError(try Manifest(json: JSONValue.parse(Array(s.utf8))), s) }
        var files: [String] = []
        for (i, bytes) in good.enumerated() {
            let u = dir.url.appendingPathComponent("good-\(i).json")
            try Data(bytes).write(to: u)
            files.append("good:" + u.path)
        }
        for (i, s) in bad.enumerated() {
            let u = dir.url.appendingPathComponent("bad-\(i).json")
            try Data(s.utf8).write(to: u)
            files.append("bad:" + u.path)
        }
        let script = """
            import json, sys
            import jsonschema
            schema = json.load(open(sys.argv[1]))
            jsonschema.Draft202012Validator.check_schema(schema)
            v = jsonschema.Draft202012Validator(schema)
            failures = 0
            for arg in sys.argv[2:]:
                want, path = arg.split(':', 1)
                errors = list(v.iter_errors(json.load(open(path))))
                if (want == 'good') != (not errors):
                    failures += 1
                    print('MISMATCH', want, path, [e.message for e in errors])
            print('checked', len(sys.argv) - 2)
            sys.exit(1 if failures else 0)
            """
        let proc = Process()
        proc.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        proc.arguments = ["python3", "-c", script, Self.schemaDir.appendingPathComponent("manifest.schema.json").path] + files
        let pipe = Pipe()
        proc.standardOutput = pipe
        proc.standardError = pipe
        try proc.run()
        proc.waitUntilExit()
        let out = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        XCTAssertEqual(proc.terminationStatus, 0, "python3 + jsonschema must be installed and every manifest must validate:\n\(out)")
        XCTAssertTrue(out.contains("checked \(files.count)"), out)
    }
}

extension Fixtures {
    /// A manifest with every optional field present.
    static func fullManifest() -> Manifest {
        Manifest(kind: .vector, blob: BlobID(String(repeating: "a", count: 64)), shape: [4, 8],
                 backbone: Backbone(model: "m", width: 8, embedding: String(repeating: "b", count: 64)),
                 parents: [Parent(.operand, ArtifactID(String(repeating: "c", count: 64))!)],
                 recipe: Recipe(op: "add", params: ["lambda": .double(0.5), "seed": 3, "note": "a \"quoted\"\nline"]),
                 metrics: ["norm": .double(1e-5)])
    }
}
