import Foundation
import GRDB

extension Registry {
    // MARK: - Writing

    /// Appends one audit row, extending the hash chain, inside the caller's write transaction.
    ///
    /// Rows from before the chain existed are chained first (once), so the new row always
    /// links to a hashed predecessor; the `audit_log_chain` trigger refuses any other insert.
    func appendAudit(_ db: Database, time: Double, action: String, name: String?, old: ArtifactID?, new: ArtifactID?,
                     command: String, actor: String?) throws {
        var last = try Row.fetchOne(db, sql: "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
        if let l = last, (l["hash"] as String?) == nil {
            try chainLegacyRows(db)
            last = try Row.fetchOne(db, sql: "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
        }
        let prev: String? = last?["hash"]
        let fields = AuditChain.Fields(time: time, action: action, name: name, old: old?.hex, new: new?.hex,
                                       command: command, actor: actor ?? configuration.defaultActor)
        let hash = AuditChain.hash(fields, prev: prev)
        try db.execute(sql: """
            INSERT INTO audit_log (time, action, name, old_id, new_id, command, actor, prev_hash, hash)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, arguments: [fields.time, fields.action, fields.name, fields.old, fields.new, fields.command, fields.actor,
                             prev, hash])
    }

    /// Fills `prev_hash` and `hash` of rows written before migration 0002, in sequence order
    /// (the only update the `audit_log_no_update` trigger allows).
    private func chainLegacyRows(_ db: Database) throws {
        var prev: String? = nil
        for r in try Row.fetchAll(db, sql: "SELECT * FROM audit_log ORDER BY seq") {
            if let h = r["hash"] as String? {
                prev = h
                continue
            }
            let f = Self.fields(r)
            let h = AuditChain.hash(f, prev: prev)
            try db.execute(sql: "UPDATE audit_log SET prev_hash = ?, hash = ? WHERE seq = ?", arguments: [prev, h, r["seq"] as Int64])
            prev = h
        }
    }

    static func fields(_ r: Row) -> AuditChain.Fields {
        AuditChain.Fields(time: r["time"], action: r["action"], name: r["name"], old: r["old_id"], new: r["new_id"],
                          command: r["command"], actor: r["actor"])
    }

    // MARK: - Reading

    /// Audit-log entries, newest first.
    public func log(limit: Int? = nil) throws -> [LogEntry] {
        try auditEntries(where: nil, arguments: [], limit: limit)
    }

    /// The entries about a name or tag, and the signatures and imports of any artifact it has
    /// pointed at, newest first.
    public func audit(name: String) throws -> [LogEntry] {
        try auditEntries(where: """
            name = ? OR (action IN ('sign', 'import') AND new_id IN (SELECT id FROM ref_history WHERE name = ?))
            """, arguments: [name, name], limit: nil)
    }

    private func auditEntries(where filter: String?, arguments: StatementArguments, limit: Int?) throws -> [LogEntry] {
        try catalogRead { db in
            var sql = "SELECT * FROM audit_log"
            if let filter { sql += " WHERE " + filter }
            sql += " ORDER BY seq DESC"
            if let limit { sql += " LIMIT \(max(0, limit))" }
            return try Row.fetchAll(db, sql: sql, arguments: arguments).map { r in
                LogEntry(sequence: r["seq"], time: Date(timeIntervalSince1970: r["time"]), action: r["action"], name: r["name"],
                         oldID: (r["old_id"] as String?).flatMap(ArtifactID.init),
                         newID: (r["new_id"] as String?).flatMap(ArtifactID.init), command: r["command"],
                         actor: r["actor"], hash: r["hash"])
            }
        }
    }

    // MARK: - Verifying

    /// Walks the audit log in sequence order, recomputing each hash and following each link.
    ///
    /// Finds rows whose content was edited (their hash no longer matches), rows after a removed
    /// entry (their link names a hash no row has, or the sequence skips), and moved rows (their
    /// link names a row that now comes later).
    /// - Returns: the problems, oldest row first; empty when the chain is whole.
    public func verifyAuditLog() throws -> (entries: Int, head: String?, problems: [AuditProblem]) {
        let rows = try catalogRead { db in try Row.fetchAll(db, sql: "SELECT * FROM audit_log ORDER BY seq") }
        var position: [String: Int] = [:]
        for (i, r) in rows.enumerated() { if let h = r["hash"] as String? { position[h] = i } }
        var problems: [AuditProblem] = []
        var prevHash: String? = nil
        var prevSeq: Int64? = nil
        for (i, r) in rows.enumerated() {
            let seq: Int64 = r["seq"]
            defer { prevHash = r["hash"]; prevSeq = seq }
            guard let recorded = r["hash"] as String? else {
                problems.append(AuditProblem(kind: .unchained, sequence: seq,
                                             message: "written before the audit chain; it is chained on the next change"))
                continue
            }
            let link: String? = r["prev_hash"]
            if AuditChain.hash(Self.fields(r), prev: link) != recorded {
                problems.append(AuditProblem(kind: .edited, sequence: seq,
                                             message: "its content does not match its hash: the entry was edited"))
            }
            if link != prevHash {
                if let l = link, let at = position[l], at > i {
                    problems.append(AuditProblem(kind: .reordered, sequence: seq,
                                                 message: "it links to seq \(rows[at]["seq"] as Int64), which comes later: entries were reordered"))
                } else if let l = link, let at = position[l], at < i {
                    let after = rows[at]["seq"] as Int64
                    problems.append(AuditProblem(kind: .removed, sequence: seq,
                                                 message: "it links to seq \(after): the entries between seq \(after) and \(seq) were removed"))
                } else if let p = prevSeq, seq != p + 1 {
                    problems.append(AuditProblem(kind: .removed, sequence: seq,
                                                 message: "its link matches no entry: the entries between seq \(p) and \(seq) were removed"))
                } else if prevHash != nil || link != nil {
                    let what = prevSeq.map { "after seq \($0)" } ?? "before it"
                    problems.append(AuditProblem(kind: .removed, sequence: seq,
                                                 message: "its link matches no entry: an entry \(what) was removed, or its hash rewritten"))
                }
            } else if let p = prevSeq, seq != p + 1 {
                problems.append(AuditProblem(kind: .removed, sequence: seq,
                                             message: "the sequence skips from \(p) to \(seq): an entry was removed"))
            }
        }
        return (rows.count, rows.last?["hash"], problems)
    }
}
