import Foundation
import GRDB

extension Registry {
    // MARK: - Writing

    /// Appends one audit row, extending the hash chain, inside the caller's write transaction,
    /// and notes the new head for the transaction's `prepare` record in `logs/refs`.
    ///
    /// The row links to the newest row that has a hash. A row without one (inserted behind
    /// pvec's back) stays unchained and `verifyAuditLog` reports it; it is never hashed into
    /// the chain after the fact. The `audit_log_chain` trigger refuses any other insert.
    func appendAudit(_ db: Database, time: Double, action: String, name: String?, oldValue old: String?, newValue new: String?,
                     command: String, actor: String?) throws {
        let prev = try String.fetchOne(db, sql: "SELECT hash FROM audit_log WHERE hash IS NOT NULL ORDER BY seq DESC LIMIT 1")
        let fields = AuditChain.Fields(time: time, action: action, name: name, old: old, new: new,
                                       command: command, actor: actor ?? configuration.defaultActor)
        let hash = AuditChain.hash(fields, prev: prev)
        try db.execute(sql: """
            INSERT INTO audit_log (time, action, name, old_id, new_id, command, actor, prev_hash, hash)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, arguments: [fields.time, fields.action, fields.name, fields.old, fields.new, fields.command, fields.actor,
                             prev, hash])
        pending.audited(seq: db.lastInsertedRowID, hash: hash, prev: prev)
    }

    func appendAudit(_ db: Database, time: Double, action: String, name: String?, old: ArtifactID?, new: ArtifactID?,
                     command: String, actor: String?) throws {
        try appendAudit(db, time: time, action: action, name: name, oldValue: old?.hex, newValue: new?.hex, command: command, actor: actor)
    }

    /// Queues a `logs/refs` entry of the current write transaction (written before its COMMIT).
    func logEntry(_ e: RefLog.Entry) {
        pending.add(e)
    }

    static func fields(_ r: Row) -> AuditChain.Fields {
        AuditChain.Fields(time: r["time"], action: r["action"], name: r["name"], old: r["old_id"], new: r["new_id"],
                          command: r["command"], actor: r["actor"])
    }

    // MARK: - Remote name moves

    /// One name a push moved on a remote (an OCI tag).
    public struct RemoteTagMove: Sendable {
        public var remote: String
        public var tag: String
        public var name: String
        public var oldDigest: String?
        public var newDigest: String
        /// The artifact the tag named before (nil: the tag was new, or named something that is
        /// not a pvec artifact).
        public var oldID: ArtifactID?
        public var newID: ArtifactID

        public init(remote: String, tag: String, name: String, oldDigest: String?, newDigest: String,
                    oldID: ArtifactID?, newID: ArtifactID) {
            self.remote = remote
            self.tag = tag
            self.name = name
            self.oldDigest = oldDigest
            self.newDigest = newDigest
            self.oldID = oldID
            self.newID = newID
        }
    }

    /// Records that a push moved names on a remote, one `remote-tag` row of the audit chain per
    /// move, in the order given, all in one transaction: `name` is the pvec name, `old_id`/`new_id`
    /// the artifacts the tag named before and after, and the command ends in
    /// `[remote <remote> tag <tag> <old digest or -> -> <new digest>]`.
    ///
    /// The rows change nothing in this registry's names: they are the local record of what this
    /// registry did to a shared one, which has no audit log of its own. One transaction for a
    /// group of moves costs the fsyncs of one (a push of 1,000 names paid 1,000 of them).
    /// - Throws: `StoreError` when the catalog cannot be written.
    public func recordRemoteTagMoves(_ moves: [RemoteTagMove], command: String, actor: String? = nil) throws {
        guard !moves.isEmpty else { return }
        try catalogWrite { db in
            let time = Date().timeIntervalSince1970
            for m in moves {
                try appendAudit(db, time: time, action: "remote-tag", name: m.name, old: m.oldID, new: m.newID,
                                command: command + " [remote \(m.remote) tag \(m.tag) \(m.oldDigest ?? "-") -> \(m.newDigest)]",
                                actor: actor)
            }
        }
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

    /// Checks the audit chain, its anchor in `logs/refs`, and the trust store.
    ///
    /// Walks the rows in sequence order, recomputing each hash and following each link: rows
    /// whose content was edited, rows after a removed entry, moved rows, and rows without a
    /// hash are problems. Then compares the chain with the heads `logs/refs` recorded at each
    /// commit: a recorded seq past the end means the end was cut off, a different hash that the
    /// chain was rewritten, and a newest row no record names that it was added behind pvec's
    /// back. Last, replays the chain's `trust`/`untrust` rows and compares the result with
    /// `trusted_keys`.
    ///
    /// The catalog is read before the log: pvec writes a transaction's `prepare` record before
    /// its COMMIT, so every committed row is covered even while another process writes.
    /// - Returns: the report; `problems` is empty when all is well.
    public func verifyAuditLog() throws -> AuditReport {
        let (rows, trusted, anchoredAfter) = try catalogRead { db in
            (try Row.fetchAll(db, sql: "SELECT * FROM audit_log ORDER BY seq"),
             try Row.fetchAll(db, sql: "SELECT key, team FROM trusted_keys ORDER BY key").map { ($0["key"] as String, $0["team"] as String) },
             try Int64.fetchOne(db, sql: "SELECT max(anchored_after) FROM audit_anchor") ?? 0)
        }
        let log = try RefLog.read(refLogURL)
        var problems = Self.chainProblems(rows, anchoredAfter: anchoredAfter)
        let anchors = Self.anchorProblems(rows, log: log, anchoredAfter: anchoredAfter)
        problems += anchors.problems
        problems.sort { $0.sequence < $1.sequence }
        problems += Self.trustProblems(rows, trusted: trusted)
        let last = rows.last
        return AuditReport(entries: rows.count, head: last?["hash"], headSequence: last?["seq"], anchor: anchors.anchor,
                           previousChains: anchors.previous, problems: problems)
    }

    private static func chainProblems(_ rows: [Row], anchoredAfter: Int64) -> [AuditProblem] {
        var position: [String: Int] = [:]
        for (i, r) in rows.enumerated() { if let h = r["hash"] as String? { position[h] = i } }
        var problems: [AuditProblem] = []
        var prevHash: String? = nil
        var prevSeq: Int64? = nil
        for (i, r) in rows.enumerated() {
            let seq: Int64 = r["seq"]
            defer { prevSeq = seq }
            guard let recorded = r["hash"] as String? else {
                let why = seq <= anchoredAfter
                    ? "it has no hash: written before the audit chain existed, or by hand; the chain cannot vouch for it"
                    : "it has no hash: it was inserted behind pvec's back"
                problems.append(AuditProblem(kind: .unchained, sequence: seq, message: why))
                continue
            }
            defer { prevHash = recorded }
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
                } else {
                    let what = prevSeq.map { "after seq \($0)" } ?? "before it"
                    problems.append(AuditProblem(kind: .removed, sequence: seq,
                                                 message: "its link matches no entry: an entry \(what) was removed, or its hash rewritten"))
                }
            } else if let p = prevSeq, seq != p + 1 {
                problems.append(AuditProblem(kind: .removed, sequence: seq,
                                             message: "the sequence skips from \(p) to \(seq): an entry was removed"))
            }
        }
        return problems
    }

    /// Compares the chain with the heads recorded in `logs/refs` since the last repair.
    private static func anchorProblems(_ rows: [Row], log: RefLog.Contents, anchoredAfter: Int64)
        -> (problems: [AuditProblem], anchor: AuditHead?, previous: [AuditHead?]) {
        let (committed, pending) = log.resolved()
        // A committed `chain` entry (a repair) starts a new chain; earlier records are of the old one.
        var start = -1
        var previous: [AuditHead?] = []
        for t in committed {
            for case .chain(let seq, let head, _) in t.entries {
                start = t.position
                previous.append(seq.flatMap { s in head.map { AuditHead(sequence: s, hash: $0) } })
            }
        }
        let current = committed.filter { $0.position >= start }
        let recorded = current.compactMap { $0.commitMark ?? $0.prepared }.sorted { $0.seq < $1.seq }
        let prepared = Set((current + pending.filter { $0.position >= start }).compactMap(\.prepared).map { "\($0.seq) \($0.head)" })
        var hashes: [Int64: String] = [:]
        for r in rows { if let h = r["hash"] as String? { hashes[r["seq"]] = h } }
        let endSeq: Int64 = rows.last?["seq"] ?? 0
        var problems: [AuditProblem] = []
        if let beyond = recorded.last, beyond.seq > endSeq {
            problems.append(AuditProblem(kind: .truncated, sequence: beyond.seq, message:
                "logs/refs recorded a commit with audit head seq \(beyond.seq) (\(beyond.head.prefix(16))), but the audit log ends at seq \(endSeq): its newest entries were cut off"))
        }
        let disagreeing = recorded.filter { m in hashes[m.seq].map { $0 != m.head } ?? false }
        if let first = disagreeing.first {
            let more = disagreeing.count > 1 ? " (\(disagreeing.count - 1) later commits disagree too)" : ""
            problems.append(AuditProblem(kind: .rewritten, sequence: first.seq, message:
                "its hash \(hashes[first.seq, default: "?"].prefix(16)) is not the \(first.head.prefix(16)) logs/refs recorded when it was committed: the chain was rewritten\(more)"))
        }
        if let head = rows.last(where: { ($0["hash"] as String?) != nil }), (head["seq"] as Int64) > anchoredAfter,
           !prepared.contains("\(head["seq"] as Int64) \(head["hash"] as String)") {
            let good = recorded.filter { hashes[$0.seq] == $0.head }.last?.seq ?? anchoredAfter
            problems.append(AuditProblem(kind: .unanchored, sequence: head["seq"], message:
                "logs/refs has no record of the entries after seq \(good): they were added behind pvec's back, or logs/refs lost its end"))
        }
        let anchor = recorded.last.map { AuditHead(sequence: $0.seq, hash: $0.head) }
        return (problems, anchor, previous)
    }

    /// The key a trust row names: the full key (`new_id`, `old_id` for `untrust`), or for rows
    /// from before 0004 only its fingerprint, taken from the command's `[key <fingerprint>]`.
    private static func trustKey(_ r: Row) -> (fingerprint: String, key: String?)? {
        let column = (r["action"] as String) == "untrust" ? "old_id" : "new_id"
        if let key = r[column] as String?, key.hasPrefix("ed25519:") { return (ArtifactSignature.fingerprint(key), key) }
        let command: String = r["command"]
        guard let open = command.range(of: " [key ", options: .backwards), command.hasSuffix("]") else { return nil }
        return (String(command[open.upperBound...].dropLast()), nil)
    }

    private static func trustProblems(_ rows: [Row], trusted: [(key: String, team: String)]) -> [AuditProblem] {
        var expected: [String: (key: String?, team: String, seq: Int64)] = [:]
        for r in rows where (r["hash"] as String?) != nil {
            let action: String = r["action"]
            guard action == "trust" || action == "untrust", let k = trustKey(r) else { continue }
            if action == "trust", let team = r["name"] as String? {
                expected[k.fingerprint] = (k.key, team, r["seq"])
            } else {
                expected[k.fingerprint] = nil
            }
        }
        var problems: [AuditProblem] = []
        var seen: Set<String> = []
        for t in trusted {
            let fp = ArtifactSignature.fingerprint(t.key)
            seen.insert(fp)
            guard let e = expected[fp], e.key == nil || e.key == t.key else {
                problems.append(AuditProblem(kind: .trustMismatch, sequence: 0, message:
                    "trusted_keys trusts key \(fp) as '\(AuditChain.printable(t.team))', but the audit chain never recorded trusting it: trusted_keys was edited behind pvec's back; remove it with `pvec trust remove`"))
                continue
            }
            if e.team != t.team {
                problems.append(AuditProblem(kind: .trustMismatch, sequence: e.seq, message:
                    "trusted_keys trusts key \(fp) as '\(AuditChain.printable(t.team))', but the audit chain (seq \(e.seq)) trusted it as '\(AuditChain.printable(e.team))': trusted_keys was edited behind pvec's back"))
            }
        }
        for (fp, e) in expected.sorted(by: { $0.value.seq < $1.value.seq }) where !seen.contains(fp) {
            problems.append(AuditProblem(kind: .trustMismatch, sequence: e.seq, message:
                "the audit chain (seq \(e.seq)) trusts key \(fp) as '\(AuditChain.printable(e.team))', but trusted_keys lacks it: it was removed behind pvec's back"))
        }
        return problems
    }
}
