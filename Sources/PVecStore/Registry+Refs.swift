import Foundation
import GRDB

extension Registry {
    // MARK: - Resolving specs

    /// The artifact a spec names.
    ///
    /// Ids win: a spec of 4 to 64 hex digits that matches artifact ids always means those
    /// artifacts, so no name can stand for someone else's content (and `RefName` refuses
    /// names that look like ids). Tried in order: a name with `@N` for its N-th version
    /// (1-based); a full id or a unique id prefix of at least 4 hex digits; a name; a tag
    /// carried by one artifact.
    ///
    /// ```swift
    /// try reg.resolve("mnli")       // current version
    /// try reg.resolve("mnli@1")     // first version
    /// try reg.resolve("3fa9c1")     // id prefix
    /// ```
    /// - Throws: `StoreError.unknownName`, `.ambiguousPrefix`, `.ambiguousTag`, `.versionOutOfRange`.
    public func resolve(_ spec: String) throws -> ArtifactID {
        try catalogRead { db in
            if let at = spec.lastIndex(of: "@") {
                let name = String(spec[..<at])
                let versionText = spec[spec.index(after: at)...]
                guard let n = Int(versionText) else {
                    throw StoreError.invalidName(name: spec, why: "after '@' comes a version number, as in \(TerminalText.quoted(name))@2")
                }
                guard let latest = try Int.fetchOne(db, sql: "SELECT version FROM refs WHERE name = ?", arguments: [name]) else {
                    throw StoreError.unknownName(spec)
                }
                guard (1...latest).contains(n),
                      let hex = try String.fetchOne(db, sql: "SELECT id FROM ref_history WHERE name = ? AND version = ?",
                                                    arguments: [name, n]) else {
                    throw StoreError.versionOutOfRange(name: name, requested: n, latest: latest)
                }
                return ArtifactID(unchecked: hex)
            }
            let lower = spec.lowercased()
            if RefName.looksLikeID(spec) {
                // 'g' sorts after every hex digit, so [p, p+"g") is exactly the ids starting with p.
                let ids = try String.fetchAll(db, sql: "SELECT id FROM artifacts WHERE id >= ? AND id < ? ORDER BY id LIMIT 21",
                                              arguments: [lower, lower + "g"])
                if ids.count == 1 { return ArtifactID(unchecked: ids[0]) }
                if ids.count > 1 {
                    throw StoreError.ambiguousPrefix(prefix: spec, candidates: try describe(ids, db))
                }
            }
            if let hex = try String.fetchOne(db, sql: "SELECT id FROM refs WHERE name = ?", arguments: [spec]) {
                return ArtifactID(unchecked: hex)
            }
            let tagged = try String.fetchAll(db, sql: "SELECT DISTINCT id FROM tags WHERE tag = ? ORDER BY id", arguments: [spec])
            if tagged.count == 1 { return ArtifactID(unchecked: tagged[0]) }
            if tagged.count > 1 { throw StoreError.ambiguousTag(tag: spec, candidates: try describe(tagged, db)) }
            throw StoreError.unknownName(spec)
        }
    }

    /// "3fa9c1d2e4b5 prompt (mnli, team/mnli)" for each id, to help pick among candidates.
    private func describe(_ ids: [String], _ db: Database) throws -> [String] {
        try ids.prefix(20).map { hex in
            let kind = try String.fetchOne(db, sql: "SELECT kind FROM artifacts WHERE id = ?", arguments: [hex]) ?? "?"
            let names = try String.fetchAll(db, sql: "SELECT name FROM refs WHERE id = ? ORDER BY name", arguments: [hex])
            return "\(hex.prefix(12)) \(kind)" + (names.isEmpty ? "" : " (\(names.joined(separator: ", ")))")
        }
    }

    // MARK: - Names

    /// Points `name` at `id`, recording a new version in its history and the audit log, all
    /// in one transaction (and one line in `logs/refs`).
    ///
    /// Pointing a name at the id it already has changes nothing and returns its version.
    /// - Parameters:
    ///   - expected: compare-and-swap. `nil` (the default) updates unconditionally;
    ///     `.some(nil)` requires that the name does not exist yet; `.some(id)` requires that it
    ///     currently points at `id`.
    ///   - command: the command line, for history and audit.
    ///   - actor: who makes the change, for the audit log (default: `configuration.actor`).
    /// - Returns: the name's version after the update (1 for a new name).
    /// - Throws: `StoreError.invalidName`, `.missingObject` (unknown artifact), `.refConflict`.
    @discardableResult
    public func updateRef(_ name: String, to id: ArtifactID, expected: ArtifactID?? = nil, command: String,
                          actor: String? = nil) throws -> Int {
        try RefName.validate(name)
        return try catalogWrite { db in
            try updateRef(name, to: id, expected: expected, command: command, actor: actor, in: db)
        }
    }

    /// The body of `updateRef`, inside a caller's write transaction (imports move many names at once).
    @discardableResult
    func updateRef(_ name: String, to id: ArtifactID, expected: ArtifactID??, command: String, actor: String?,
                   in db: Database) throws -> Int {
        guard try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM artifacts WHERE id = ?)", arguments: [id.hex]) == true else {
            throw StoreError.missingObject(id: id.hex, what: "artifact")
        }
        let current = try Row.fetchOne(db, sql: "SELECT id, version FROM refs WHERE name = ?", arguments: [name])
        let currentID = current.map { ArtifactID(unchecked: $0["id"]) }
        if let expected, expected != currentID {
            throw StoreError.refConflict(name: name, expected: expected, actual: currentID)
        }
        if let current, currentID == id { return current["version"] as Int }
        let version = (current?["version"] as Int? ?? 0) + 1
        let now = Date().timeIntervalSince1970
        try db.execute(sql: """
            INSERT INTO refs (name, id, version, updated_at) VALUES (?, ?, ?, ?)
            ON CONFLICT (name) DO UPDATE SET id = excluded.id, version = excluded.version, updated_at = excluded.updated_at
            """, arguments: [name, id.hex, version, now])
        try db.execute(sql: "INSERT INTO ref_history (name, version, id, time, command) VALUES (?, ?, ?, ?, ?)",
                       arguments: [name, version, id.hex, now, command])
        let action = current == nil ? "create-ref" : "update-ref"
        try appendAudit(db, time: now, action: action, name: name, old: currentID, new: id, command: command, actor: actor)
        try RefLog.append(.ref(name: name, version: version, old: currentID, new: id, time: now, command: command), to: refLogURL)
        return version
    }

    /// Every name, sorted.
    public func refs() throws -> [RefEntry] {
        try catalogRead { db in
            try Row.fetchAll(db, sql: "SELECT name, id, version, updated_at FROM refs ORDER BY name").map {
                RefEntry(name: $0["name"], id: ArtifactID(unchecked: $0["id"]), version: $0["version"],
                         updatedAt: Date(timeIntervalSince1970: $0["updated_at"]))
            }
        }
    }

    /// The versions of a name, oldest first.
    ///
    /// - Throws: `StoreError.unknownName` if there is no such name.
    public func refHistory(_ name: String) throws -> [RefVersion] {
        try catalogRead { db in
            let rows = try Row.fetchAll(db, sql: "SELECT version, id, time, command FROM ref_history WHERE name = ? ORDER BY version",
                                        arguments: [name])
            if rows.isEmpty { throw StoreError.unknownName(name) }
            return rows.map {
                RefVersion(version: $0["version"], id: ArtifactID(unchecked: $0["id"]),
                           time: Date(timeIntervalSince1970: $0["time"]), command: $0["command"])
            }
        }
    }

    /// Names currently pointing at `id`, sorted.
    public func names(of id: ArtifactID) throws -> [String] {
        try catalogRead { db in
            try String.fetchAll(db, sql: "SELECT name FROM refs WHERE id = ? ORDER BY name", arguments: [id.hex])
        }
    }

    // MARK: - Tags

    /// Adds a tag to an artifact (a no-op if it is already there); audited.
    ///
    /// - Throws: `StoreError.invalidName` (tags follow the name rules), `.missingObject`.
    public func addTag(_ tag: String, to id: ArtifactID, command: String, actor: String? = nil) throws {
        try RefName.validate(tag)
        try catalogWrite { db in
            guard try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM artifacts WHERE id = ?)", arguments: [id.hex]) == true else {
                throw StoreError.missingObject(id: id.hex, what: "artifact")
            }
            let now = Date().timeIntervalSince1970
            try db.execute(sql: "INSERT OR IGNORE INTO tags (id, tag, created_at) VALUES (?, ?, ?)", arguments: [id.hex, tag, now])
            guard db.changesCount > 0 else { return }
            try appendAudit(db, time: now, action: "tag", name: tag, old: nil, new: id, command: command, actor: actor)
            try RefLog.append(.tag(tag: tag, id: id, time: now, command: command), to: refLogURL)
        }
    }

    /// The tags of an artifact, sorted.
    public func tags(of id: ArtifactID) throws -> [String] {
        try catalogRead { db in
            try String.fetchAll(db, sql: "SELECT tag FROM tags WHERE id = ? ORDER BY tag", arguments: [id.hex])
        }
    }
}
