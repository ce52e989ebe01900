import Foundation
import GRDB
import PVecTensor

extension Registry {
    // MARK: - Checking

    /// Re-hashes objects and cross-checks them with the catalog.
    ///
    /// With an id, checks that artifact: its catalog row, manifest object, blob and parent
    /// edges. Without, checks everything: every catalog row, every manifest and blob object
    /// (including ones the catalog does not know), every edge, ref and tag.
    /// - Returns: the problems found, each naming the object or artifact and what is wrong;
    ///   empty when all is well.
    /// - Throws: `StoreError.unknownName` when `id` is neither in the catalog nor in the objects.
    public func checkIntegrity(_ id: ArtifactID? = nil) throws -> [IntegrityProblem] {
        var problems: [IntegrityProblem] = []
        func report(_ kind: IntegrityProblem.Kind, _ subject: String, _ message: String) {
            problems.append(IntegrityProblem(kind: kind, subject: subject, message: message))
        }
        let rows = try catalogRead { db in
            try Row.fetchAll(db, sql: "SELECT id, blob, manifest FROM artifacts" + (id == nil ? "" : " WHERE id = ?") + " ORDER BY id",
                             arguments: id.map { [$0.hex] } ?? [])
        }
        if let id, rows.isEmpty {
            guard manifestObjects.contains(id.hex) else { throw StoreError.unknownName(id.hex) }
            checkOrphanManifest(id.hex, report)
            return problems
        }
        var blobsChecked: Set<String> = []
        for r in rows {
            let hex: String = r["id"]
            let catalogText: String = r["manifest"]
            var manifest = try? Manifest(json: JSONValue.parse(Array(catalogText.utf8)))
            if manifest == nil {
                report(.catalogMismatch, hex, "the catalog's copy of the manifest does not parse; run `pvec verify --repair`")
            }
            let path = manifestObjects.url(for: hex).path
            if let bytes = try manifestObjects.read(hex) {
                let actual = Digest.sha256Hex(bytes)
                if actual != hex {
                    report(.corruptObject, hex, "manifest object \(path) hashes to \(actual.prefix(12)), not to its id")
                } else if bytes != Array(catalogText.utf8) {
                    report(.catalogMismatch, hex, "the catalog's copy of the manifest differs from \(path); run `pvec verify --repair`")
                    manifest = try? Manifest(json: JSONValue.parse(bytes))
                }
            } else {
                report(.missingObject, hex, "manifest object \(path) is missing")
            }
            if let blobHex = r["blob"] as String?, !blobsChecked.contains(blobHex) {
                blobsChecked.insert(blobHex)
                checkBlob(blobHex, expectedShape: manifest?.shape, usedBy: hex, report)
            }
        }
        try catalogRead { db in
            let filter = id == nil ? "" : " AND e.child = ?"
            let args: StatementArguments = id.map { [$0.hex] } ?? []
            for r in try Row.fetchAll(db, sql: """
                SELECT e.child, e.parent, e.role FROM edges e
                WHERE NOT EXISTS (SELECT 1 FROM artifacts a WHERE a.id = e.parent)\(filter) ORDER BY e.child, e.position
                """, arguments: args) {
                report(.danglingReference, r["child"], "its \(r["role"] as String) parent \(r["parent"] as String) is not in the catalog")
            }
            guard id == nil else { return }
            for (table, column) in [("refs", "name"), ("ref_history", "name"), ("tags", "tag")] {
                for r in try Row.fetchAll(db, sql: """
                    SELECT \(column) AS label, id FROM \(table) t WHERE NOT EXISTS (SELECT 1 FROM artifacts a WHERE a.id = t.id)
                    """) {
                    report(.danglingReference, r["label"], "\(table) entry points at \(r["id"] as String), which is not in the catalog")
                }
            }
            let check = try String.fetchAll(db, sql: "PRAGMA quick_check")
            if check != ["ok"] {
                report(.corruptObject, catalogURL.path, "SQLite quick_check: \(check.prefix(5).joined(separator: "; "))")
            }
        }
        guard id == nil else { return problems }
        let catalogued = Set(rows.map { $0["id"] as String })
        for hex in try manifestObjects.allIDs() where !catalogued.contains(hex) {
            checkOrphanManifest(hex, report)
        }
        for hex in try objects.allIDs() where !blobsChecked.contains(hex) {
            checkBlob(hex, expectedShape: nil, usedBy: nil, report)
        }
        return problems
    }

    private func checkOrphanManifest(_ hex: String, _ report: (IntegrityProblem.Kind, String, String) -> Void) {
        let path = manifestObjects.url(for: hex).path
        guard let bytes = try? manifestObjects.read(hex) else {
            report(.missingObject, hex, "manifest object \(path) cannot be read")
            return
        }
        let actual = Digest.sha256Hex(bytes)
        if actual != hex {
            report(.corruptObject, hex, "manifest object \(path) hashes to \(actual.prefix(12)), not to its id")
        } else {
            report(.notInCatalog, hex, "manifest object \(path) is not in the catalog (interrupted write?); run `pvec verify --repair`")
        }
    }

    private func checkBlob(_ hex: String, expectedShape: Shape?, usedBy: String?,
                           _ report: (IntegrityProblem.Kind, String, String) -> Void) {
        let user = usedBy.map { " (blob of \($0.prefix(12)))" } ?? ""
        let raw: [UInt8]
        do {
            raw = try canonicalBlobBytes(BlobID(unchecked: hex))
        } catch StoreError.missingObject {
            report(.missingObject, hex, "blob object \(objects.url(for: hex).path) is missing\(user)")
            return
        } catch StoreError.corruptObject(_, let path, let reason) {
            report(.corruptObject, hex, "blob object \(path) is corrupt: \(reason)\(user)")
            return
        } catch {
            report(.corruptObject, hex, "blob object cannot be read: \(error.localizedDescription)\(user)")
            return
        }
        guard let file = try? SafetensorsFile(bytes: raw) else {
            report(.corruptObject, hex, "blob content is not valid safetensors\(user)")
            return
        }
        if let expectedShape {
            guard let entry = file.entries.first(where: { $0.name == "tensor" }) else {
                report(.blobMismatch, hex, "blob has no \"tensor\" entry\(user)")
                return
            }
            if entry.shape != expectedShape {
                report(.blobMismatch, hex, "blob tensor has shape \(entry.shape), the manifest says \(expectedShape)\(user)")
            }
        }
    }

    // MARK: - Rebuilding

    /// Re-creates the catalog's artifact and edge rows from the manifest objects.
    ///
    /// Names, history and tags are kept when the catalog still has them (rows whose
    /// artifact is gone are dropped); when it has none (a lost catalog was replaced by an
    /// empty one), they are replayed from `logs/refs`. Manifest objects that are corrupt are
    /// skipped (`checkIntegrity` names them). Creation times are kept where known, else the
    /// object file's modification time. The audit log is kept and gains a `rebuild-catalog` row.
    /// - Returns: the number of artifacts now in the catalog.
    @discardableResult
    public func rebuildCatalog() throws -> Int {
        try requireWritable()
        var loaded: [(id: ArtifactID, manifest: Manifest, bytes: [UInt8], mtime: Date)] = []
        for hex in try manifestObjects.allIDs() {
            guard let bytes = try? manifestObjects.read(hex), Digest.sha256Hex(bytes) == hex,
                  let m = try? Manifest(json: JSONValue.parse(bytes)) else { continue }
            let attrs = try? FileManager.default.attributesOfItem(atPath: manifestObjects.url(for: hex).path)
            loaded.append((ArtifactID(unchecked: hex), m, bytes, attrs?[.modificationDate] as? Date ?? Date()))
        }
        let logEntries = try RefLog.read(refLogURL)
        return try catalogWrite { db in
            var created: [String: Double] = [:]
            for r in try Row.fetchAll(db, sql: "SELECT id, created_at FROM artifacts") { created[r["id"]] = r["created_at"] }
            let refs = try Row.fetchAll(db, sql: "SELECT * FROM refs")
            let history = try Row.fetchAll(db, sql: "SELECT * FROM ref_history")
            let tags = try Row.fetchAll(db, sql: "SELECT * FROM tags")
            for table in ["tags", "ref_history", "refs", "edges", "artifacts"] {
                try db.execute(sql: "DELETE FROM \(table)")
            }
            for a in loaded {
                let at = created[a.id.hex].map { Date(timeIntervalSince1970: $0) } ?? a.mtime
                try Self.index(a.manifest, id: a.id, bytes: a.bytes, createdAt: at, in: db)
            }
            let present = Set(loaded.map(\.id.hex))
            if history.isEmpty && tags.isEmpty {
                try replay(logEntries, present: present, db)
            } else {
                for r in history where present.contains(r["id"]) {
                    try db.execute(sql: "INSERT INTO ref_history (name, version, id, time, command) VALUES (?, ?, ?, ?, ?)",
                                   arguments: StatementArguments([r["name"], r["version"], r["id"], r["time"], r["command"]] as [DatabaseValue]))
                }
                for r in refs where present.contains(r["id"]) {
                    try db.execute(sql: "INSERT INTO refs (name, id, version, updated_at) VALUES (?, ?, ?, ?)",
                                   arguments: StatementArguments([r["name"], r["id"], r["version"], r["updated_at"]] as [DatabaseValue]))
                }
                for r in tags where present.contains(r["id"]) {
                    try db.execute(sql: "INSERT INTO tags (id, tag, created_at) VALUES (?, ?, ?)",
                                   arguments: StatementArguments([r["id"], r["tag"], r["created_at"]] as [DatabaseValue]))
                }
            }
            try appendAudit(db, time: Date().timeIntervalSince1970, action: "rebuild-catalog", name: nil, old: nil, new: nil,
                            command: "rebuild-catalog: \(loaded.count) manifests", actor: nil)
            return loaded.count
        }
    }

    /// Restores refs, history and tags from the ref log, skipping entries whose artifact is gone.
    private func replay(_ entries: [RefLog.Entry], present: Set<String>, _ db: Database) throws {
        var latest: [String: (version: Int, id: String, time: Double)] = [:]
        for e in entries {
            switch e {
            case .ref(let name, let version, _, let new, let time, let command):
                guard present.contains(new.hex) else { continue }
                try db.execute(sql: "INSERT OR REPLACE INTO ref_history (name, version, id, time, command) VALUES (?, ?, ?, ?, ?)",
                               arguments: [name, version, new.hex, time, command])
                if version >= latest[name]?.version ?? 0 { latest[name] = (version, new.hex, time) }
            case .tag(let tag, let id, let time, _):
                guard present.contains(id.hex) else { continue }
                try db.execute(sql: "INSERT OR IGNORE INTO tags (id, tag, created_at) VALUES (?, ?, ?)", arguments: [id.hex, tag, time])
            }
        }
        for (name, v) in latest {
            try db.execute(sql: "INSERT INTO refs (name, id, version, updated_at) VALUES (?, ?, ?, ?)",
                           arguments: [name, v.id, v.version, v.time])
        }
    }

    // MARK: - Garbage collection

    /// Removes what no name, history entry or tag reaches; see `gc(dryRun:gracePeriod:)`.
    public func gc(dryRun: Bool) throws -> GCReport {
        try gc(dryRun: dryRun, gracePeriod: 600)
    }

    /// Removes unreachable artifacts, their objects, unreferenced blobs and stray temp files.
    ///
    /// Reachable: every artifact a name, a history entry, a tag or an unexpired pin (objects of
    /// a push in progress) points at, everything those
    /// descend from (the closure over parents), and every artifact whose `evaluated` parent is
    /// reachable (an evaluation of something kept is kept, with its own parents). Rows and
    /// files are removed in one IMMEDIATE transaction, holding the catalog's write lock.
    ///
    /// Manifest objects the catalog does not index are never removed (after a lost catalog
    /// they are all there is; `rebuildCatalog` indexes them). Blobs no artifact uses are
    /// removed only when older than `gracePeriod` seconds, so another process's
    /// `putBlob` → `writeManifest` in progress is not cut short.
    /// - Parameters:
    ///   - dryRun: report what would go, remove nothing.
    public func gc(dryRun: Bool, gracePeriod: TimeInterval) throws -> GCReport {
        // Everything, file deletions included, happens under the catalog's write lock (a read
        // transaction for a dry run): `writeManifest` checks and writes under the same lock,
        // so it never sees a blob that is about to vanish.
        try catalogTransaction(write: !dryRun) { db in
            var parents: [String: [String]] = [:]
            var evaluations: [String: [String]] = [:]
            for r in try Row.fetchAll(db, sql: "SELECT child, parent, role FROM edges ORDER BY child, position") {
                parents[r["child"], default: []].append(r["parent"])
                if (r["role"] as String) == ParentRole.evaluated.rawValue { evaluations[r["parent"], default: []].append(r["child"]) }
            }
            var reachable: Set<String> = []
            // Pins hold what a push has sent but not yet named (objects in flight).
            let now = Date()
            let pinned = Set(try String.fetchAll(db, sql: "SELECT id FROM pins WHERE expires_at > ?",
                                                 arguments: [now.timeIntervalSince1970]))
            var stack = try String.fetchAll(db, sql: "SELECT id FROM refs UNION SELECT id FROM ref_history UNION SELECT id FROM tags")
            stack += pinned
            while let next = stack.popLast() {
                guard reachable.insert(next).inserted else { continue }
                stack += parents[next] ?? []
                stack += evaluations[next] ?? []
            }
            var removed: [String] = []
            var catalogued: Set<String> = []
            var blobsOfRemoved: Set<String> = []
            var keptBlobs: Set<String> = []
            for r in try Row.fetchAll(db, sql: "SELECT id, blob FROM artifacts ORDER BY id") {
                let hex: String = r["id"]
                let blob: String? = r["blob"]
                catalogued.insert(hex)
                if reachable.contains(hex) {
                    if let blob { keptBlobs.insert(blob) }
                } else {
                    removed.append(hex)
                    if let blob { blobsOfRemoved.insert(blob) }
                }
            }
            // Manifest objects outside the catalog stay, and so do their blobs.
            for hex in try manifestObjects.allIDs() where !catalogued.contains(hex) {
                if let bytes = try? manifestObjects.read(hex), let m = try? Manifest(json: JSONValue.parse(bytes)), let b = m.blob {
                    keptBlobs.insert(b.hex)
                }
            }
            keptBlobs.formUnion(pinned)
            var blobs: [String] = []
            for hex in try objects.allIDs() where !keptBlobs.contains(hex) {
                if blobsOfRemoved.contains(hex) {
                    blobs.append(hex)
                } else if let m = (try? FileManager.default.attributesOfItem(atPath: objects.url(for: hex).path))?[.modificationDate] as? Date,
                          now.timeIntervalSince(m) >= gracePeriod {
                    blobs.append(hex)
                }
            }
            let temps = staleTempFiles()
            var bytes: Int64 = 0
            for hex in removed { bytes += manifestObjects.size(hex) }
            for hex in blobs { bytes += objects.size(hex) }
            for u in temps { bytes += Int64((try? FileManager.default.attributesOfItem(atPath: u.path))?[.size] as? Int ?? 0) }
            if !dryRun {
                // The rows go in this transaction; a file that cannot be deleted (rare: the
                // folder became read-only) stays behind as an uncatalogued object, which
                // checkIntegrity reports and rebuildCatalog re-indexes, rather than undoing
                // deletions already made.
                for hex in removed {
                    try db.execute(sql: "DELETE FROM artifacts WHERE id = ?", arguments: [hex])
                    try db.execute(sql: "DELETE FROM signatures WHERE artifact = ?", arguments: [hex])
                }
                try db.execute(sql: "DELETE FROM pins WHERE expires_at <= ?", arguments: [now.timeIntervalSince1970])
                for hex in removed { try? manifestObjects.remove(hex) }
                blobs = blobs.filter { (try? objects.remove($0)) != nil }
                for u in temps { _ = unlink(u.path) }
            }
            return GCReport(removedArtifacts: removed.map { ArtifactID(unchecked: $0) },
                            removedBlobs: blobs.map { BlobID(unchecked: $0) },
                            removedTempFiles: temps.map(\.path), bytesFreed: bytes, dryRun: dryRun)
        }
    }

    private func catalogTransaction<T>(write: Bool, _ body: (Database) throws -> T) throws -> T {
        write ? try catalogWrite(body) : try catalogRead(body)
    }
}
