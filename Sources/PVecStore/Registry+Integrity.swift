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
        // Each blob is decoded once, but every manifest is checked against it: two manifests
        // may share a blob, and one of them may lie about its shape or dtype.
        var blobsChecked: [String: [SafetensorsEntry]?] = [:]
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
            guard let blobHex = r["blob"] as String? else { continue }
            let entries = blobsChecked[blobHex] ?? checkBlob(blobHex, usedBy: hex, report)
            blobsChecked[blobHex] = .some(entries)
            if let manifest, let entries, let why = manifest.blobDisagreement(entries: entries) {
                report(.blobMismatch, hex, why)
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
        for hex in try objects.allIDs() where blobsChecked[hex] == nil {
            _ = checkBlob(hex, usedBy: nil, report)
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

    /// Re-hashes and parses a blob; returns its entries, or nil when it cannot be read
    /// (problems are reported here).
    private func checkBlob(_ hex: String, usedBy: String?,
                           _ report: (IntegrityProblem.Kind, String, String) -> Void) -> [SafetensorsEntry]? {
        let user = usedBy.map { " (blob of \($0.prefix(12)))" } ?? ""
        let raw: [UInt8]
        do {
            raw = try canonicalBlobBytes(BlobID(unchecked: hex))
        } catch StoreError.missingObject {
            report(.missingObject, hex, "blob object \(objects.url(for: hex).path) is missing\(user)")
            return nil
        } catch StoreError.corruptObject(_, let path, let reason) {
            report(.corruptObject, hex, "blob object \(path) is corrupt: \(reason)\(user)")
            return nil
        } catch {
            report(.corruptObject, hex, "blob object cannot be read: \(error.localizedDescription)\(user)")
            return nil
        }
        guard let file = try? SafetensorsFile(bytes: raw) else {
            report(.corruptObject, hex, "blob content is not valid safetensors\(user)")
            return nil
        }
        return file.entries
    }

    // MARK: - Rebuilding

    /// Re-creates the catalog's artifact and edge rows from the manifest objects; see `repair()`.
    /// - Returns: the number of artifacts now in the catalog.
    @discardableResult
    public func rebuildCatalog() throws -> Int {
        try repair().manifests
    }

    /// Rebuilds the catalog in place: re-indexes every manifest object (orphans a crash left
    /// between object and catalog row included), keeps names, history and tags, and appends a
    /// `rebuild-catalog` audit row.
    ///
    /// When the catalog has no history and no tags (an older pvec replaced a lost catalog by
    /// an empty one), names, history, tags, trusted keys and signatures are replayed from the
    /// committed transactions of `logs/refs`. Manifest objects that are corrupt are skipped
    /// (`checkIntegrity` names them). Creation times are kept where known, else the object
    /// file's modification time.
    public func repair() throws -> RepairReport {
        try rebuild(scratch: false).report
    }

    /// Rebuilds a lost `catalog.sqlite` from the manifest objects and `logs/refs`, or repairs
    /// the catalog in place (`repair()`) when it is there.
    ///
    /// The new catalog is built beside the old place (`catalog.repair.sqlite`, under
    /// `catalog.lock`) and renamed into place once complete, so an interrupted repair is simply
    /// run again. Only transactions `logs/refs` shows as committed are replayed. The audit
    /// log cannot be rebuilt: the new catalog starts a new chain whose first row
    /// (`rebuild-catalog`) names the old chain's last recorded head, followed by one `trust` row
    /// per restored key; `logs/refs` gets a `chain` entry, so `verifyAuditLog` checks the new
    /// chain against the records written since.
    /// - Returns: the opened registry and what was restored.
    /// - Throws: `StoreError.notARegistry`, `.notWritable`, `.catalog`.
    public static func repairCatalog(at root: URL, configuration: RegistryConfiguration = .init()) throws -> (Registry, RepairReport) {
        let root = root.standardizedFileURL
        guard isRegistry(root) else { throw StoreError.notARegistry(path: root.path) }
        let catalog = root.appendingPathComponent("catalog.sqlite")
        let fm = FileManager.default
        if fm.fileExists(atPath: catalog.path) {
            let reg = try open(at: root, configuration: configuration)
            return (reg, try reg.repair())
        }
        var report: RepairReport?
        try FileIO.withLock(root.appendingPathComponent("catalog.lock")) {
            guard !fm.fileExists(atPath: catalog.path) else { return }
            // A -wal or -shm of the lost catalog must not be applied to the new one.
            let stamp = Int(Date().timeIntervalSince1970)
            for suffix in ["-wal", "-shm"] where fm.fileExists(atPath: catalog.path + suffix) {
                try FileIO.move(URL(fileURLWithPath: catalog.path + suffix), to: URL(fileURLWithPath: catalog.path + suffix + ".lost-\(stamp)"))
            }
            let scratch = root.appendingPathComponent("catalog.repair.sqlite")
            for suffix in ["", "-wal", "-shm"] { _ = unlink(scratch.path + suffix) }
            let built = try openScratchCatalog(root: root, path: scratch, configuration: configuration)
            let (r, commitRecord) = try built.rebuild(scratch: true)
            // Everything into the main file, so it can be renamed alone: a TRUNCATE checkpoint
            // leaves the write-ahead log empty, and it is removed once the pool is closed.
            do {
                let busy = try built.db.writeWithoutTransaction { db in
                    try Row.fetchOne(db, sql: "PRAGMA wal_checkpoint(TRUNCATE)").map { $0[0] as Int } ?? 1
                }
                guard busy == 0 else { throw StoreError.catalog("the checkpoint of \(scratch.path) was blocked") }
                try built.db.close()
            } catch let e as StoreError {
                throw e
            } catch {
                throw StoreError.catalog("closing the rebuilt catalog \(scratch.path) failed: \(error)")
            }
            for suffix in ["-wal", "-shm"] { _ = unlink(scratch.path + suffix) }
            try FileIO.move(scratch, to: catalog)
            try FileIO.syncDirectory(root)
            if let commitRecord { try? RefLog.append([commitRecord], to: built.refLogURL) }
            report = r
        }
        let reg = try open(at: root, configuration: configuration)
        return (reg, try report ?? reg.repair())
    }

    /// The rebuild shared by `repair()` and `repairCatalog`; `scratch`: the catalog is new
    /// and empty, and the commit record is left to the caller (written once it is in place).
    private func rebuild(scratch: Bool) throws -> (report: RepairReport, commitRecord: JSONValue?) {
        try requireWritable()
        var loaded: [(id: ArtifactID, manifest: Manifest, bytes: [UInt8], mtime: Date)] = []
        for hex in try manifestObjects.allIDs() {
            guard let bytes = try? manifestObjects.read(hex), Digest.sha256Hex(bytes) == hex,
                  let m = try? Manifest(json: JSONValue.parse(bytes)) else { continue }
            let attrs = try? FileManager.default.attributesOfItem(atPath: manifestObjects.url(for: hex).path)
            loaded.append((ArtifactID(unchecked: hex), m, bytes, attrs?[.modificationDate] as? Date ?? Date()))
        }
        // With a catalog to ask, a transaction killed after its COMMIT shows in its audit rows.
        let heads = try catalogRead { db in
            Set(try Row.fetchAll(db, sql: "SELECT seq, hash FROM audit_log WHERE hash IS NOT NULL").map { "\($0["seq"] as Int64) \($0["hash"] as String)" })
        }
        let log = try RefLog.read(refLogURL)
        let entries = log.committedEntries(catalogHeads: heads)
        let skipped = log.resolved(catalogHeads: heads).pending.filter { !$0.entries.isEmpty }.map(RepairReport.describe)
        let (report, commit) = try catalogWrite(deferCommitRecord: scratch) { db -> RepairReport in
            var report = RepairReport()
            report.skippedTransactions = skipped
            var created: [String: Double] = [:]
            for r in try Row.fetchAll(db, sql: "SELECT id, created_at FROM artifacts") { created[r["id"]] = r["created_at"] }
            let refs = try Row.fetchAll(db, sql: "SELECT * FROM refs")
            let history = try Row.fetchAll(db, sql: "SELECT * FROM ref_history")
            let tags = try Row.fetchAll(db, sql: "SELECT * FROM tags")
            let auditRows = try Int.fetchOne(db, sql: "SELECT count(*) FROM audit_log") ?? 0
            for table in ["tags", "ref_history", "refs", "edges", "artifacts"] {
                try db.execute(sql: "DELETE FROM \(table)")
            }
            for a in loaded {
                let at = created[a.id.hex].map { Date(timeIntervalSince1970: $0) } ?? a.mtime
                try Self.index(a.manifest, id: a.id, bytes: a.bytes, createdAt: at, in: db)
            }
            report.manifests = loaded.count
            report.newlyIndexed = loaded.filter { created[$0.id.hex] == nil }.count
            let present = Set(loaded.map(\.id.hex))
            var restoredKeys: [(key: String, team: String)] = []
            if history.isEmpty && tags.isEmpty {
                report.replayedLog = true
                try replay(entries, present: present, db)
                if try Int.fetchOne(db, sql: "SELECT count(*) FROM trusted_keys") == 0 {
                    restoredKeys = try replayTrust(entries, db)
                }
                report.signatures = try replaySignatures(entries, present: present, db)
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
            report.names = try Int.fetchOne(db, sql: "SELECT count(*) FROM refs") ?? 0
            report.versions = try Int.fetchOne(db, sql: "SELECT count(*) FROM ref_history") ?? 0
            report.tags = try Int.fetchOne(db, sql: "SELECT count(*) FROM tags") ?? 0
            report.trustedKeys = restoredKeys.count
            let now = Date().timeIntervalSince1970
            var command = "rebuild-catalog: \(loaded.count) manifests (\(report.newlyIndexed) not indexed before)"
            if report.replayedLog { command += "; names, history and tags replayed from logs/refs" }
            if auditRows == 0, let old = log.chainHead(catalogHeads: heads) {
                // The old chain is gone with the old catalog: start a new one that names its end.
                report.newChain = true
                report.previousHead = AuditHead(sequence: old.seq, hash: old.head)
                command += "; new audit chain, the previous one ended at seq \(old.seq) head \(old.head)"
                logEntry(.chain(oldSeq: old.seq, oldHead: old.head, time: now))
            } else if auditRows == 0 && (!log.transactions.isEmpty || !log.legacy.isEmpty) {
                report.newChain = true
                command += "; new audit chain, the previous one's head is not known"
                logEntry(.chain(oldSeq: nil, oldHead: nil, time: now))
            }
            try appendAudit(db, time: now, action: "rebuild-catalog", name: nil, old: nil, new: nil,
                            command: command, actor: nil)
            for k in restoredKeys {
                try appendAudit(db, time: now, action: "trust", name: k.team, oldValue: nil, newValue: k.key,
                                command: "rebuild-catalog: restored from logs/refs [key \(ArtifactSignature.fingerprint(k.key))]",
                                actor: nil)
            }
            return report
        }
        return (report, commit)
    }

    /// Restores refs and history from the ref log, skipping entries whose artifact is gone.
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
            default:
                continue
            }
        }
        for (name, v) in latest {
            try db.execute(sql: "INSERT INTO refs (name, id, version, updated_at) VALUES (?, ?, ?, ?)",
                           arguments: [name, v.id, v.version, v.time])
        }
    }

    /// Restores `trusted_keys` by replaying trust changes in order; returns the keys restored.
    private func replayTrust(_ entries: [RefLog.Entry], _ db: Database) throws -> [(key: String, team: String)] {
        var store: [String: (team: String, time: Double, order: Int)] = [:]
        for (i, e) in entries.enumerated() {
            guard case .trust(let key, let team, let time, _) = e, (try? ArtifactSignature.publicKey(key)) != nil else { continue }
            if let team, (try? RefName.validate(team)) != nil { store[key] = (team, time, i) } else { store[key] = nil }
        }
        let restored = store.sorted { $0.value.order < $1.value.order }
        for (key, v) in restored {
            try db.execute(sql: "INSERT INTO trusted_keys (key, team, added_at) VALUES (?, ?, ?)", arguments: [key, v.team, v.time])
        }
        return restored.map { ($0.key, $0.value.team) }
    }

    /// Restores the signatures the log recorded that still verify, on artifacts still present.
    private func replaySignatures(_ entries: [RefLog.Entry], present: Set<String>, _ db: Database) throws -> Int {
        var n = 0
        for e in entries {
            guard case .sign(let artifact, let key, let signature, let signer, let time) = e, present.contains(artifact.hex) else { continue }
            let s = ArtifactSignature(artifact: artifact, key: key, signature: signature, signer: signer)
            guard s.isValid else { continue }
            try db.execute(sql: "INSERT OR IGNORE INTO signatures (artifact, key, signature, signer, created_at) VALUES (?, ?, ?, ?, ?)",
                           arguments: [artifact.hex, key, signature, signer, time])
            n += db.changesCount
        }
        return n
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
            let blobSizes = Dictionary(blobs.map { ($0, objects.size($0)) }, uniquingKeysWith: { a, _ in a })
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
            // Blobs count once they are gone (or, in a dry run, would be).
            for hex in blobs { bytes += blobSizes[hex] ?? 0 }
            return GCReport(removedArtifacts: removed.map { ArtifactID(unchecked: $0) },
                            removedBlobs: blobs.map { BlobID(unchecked: $0) },
                            removedTempFiles: temps.map(\.path), bytesFreed: bytes, dryRun: dryRun)
        }
    }

    private func catalogTransaction<T>(write: Bool, _ body: (Database) throws -> T) throws -> T {
        write ? try catalogWrite(body) : try catalogRead(body)
    }
}

/// What `repair()` or `Registry.repairCatalog` rebuilt.
public struct RepairReport: Sendable, Equatable {
    /// Artifacts now in the catalog.
    public var manifests = 0
    /// Of those, manifest objects the catalog did not index before (crash leftovers, or all of
    /// them for a lost catalog).
    public var newlyIndexed = 0
    /// Whether names, history and tags came from `logs/refs` (the catalog had none).
    public var replayedLog = false
    /// Names in the catalog afterwards.
    public var names = 0
    /// Versions of names (`name@N` history rows, all names together) afterwards.
    public var versions = 0
    /// Tags (one per tag and artifact) afterwards.
    public var tags = 0
    /// Trusted keys restored from `logs/refs`.
    public var trustedKeys = 0
    /// Signatures restored from `logs/refs`.
    public var signatures = 0
    /// Transactions in `logs/refs` that never committed (rolled back, or killed before the
    /// catalog's COMMIT), left out: one description each.
    public var skippedTransactions: [String] = []
    /// Whether the audit log had to start a new chain (the old one was lost with the catalog).
    public var newChain = false
    /// The old chain's last head as `logs/refs` recorded it.
    public var previousHead: AuditHead?

    /// An empty report, every count zero; the repair fills it in.
    public init() {}

    static func describe(_ t: RefLog.Transaction) -> String {
        let what = t.entries.compactMap { e -> String? in
            switch e {
            case .ref(let name, let version, _, let new, _, _): return "\(name)@\(version) -> \(new.short)"
            case .tag(let tag, let id, _, _): return "tag \(tag) on \(id.short)"
            case .trust(let key, let team, _, _): return "trust \(ArtifactSignature.fingerprint(key)) as \(team ?? "(removed)")"
            case .sign(let artifact, let key, _, _, _): return "signature by \(ArtifactSignature.fingerprint(key)) on \(artifact.short)"
            case .chain: return nil
            }
        }
        return "transaction \(t.id.prefix(12)): " + AuditChain.printable(what.joined(separator: ", "))
    }
}
