import Foundation
import GRDB

extension Registry {
    // MARK: - Signatures

    /// Records a signature on an artifact, after checking it verifies; audited as `sign`.
    ///
    /// Recording the same key's signature again is a no-op.
    /// - Parameter name: the name the signer used, for the audit log.
    /// - Throws: `StoreError.badSignature`, `.missingObject` (unknown artifact).
    public func addSignature(_ s: ArtifactSignature, name: String?, command: String, actor: String? = nil) throws {
        guard s.isValid else { throw StoreError.badSignature(artifact: s.artifact.hex, key: s.key) }
        try ArtifactSignature.validateSigner(s.signer)
        try catalogWrite { db in try addSignature(s, name: name, command: command, actor: actor, in: db) }
    }

    func addSignature(_ s: ArtifactSignature, name: String?, command: String, actor: String?, in db: Database) throws {
        try ArtifactSignature.validateSigner(s.signer)
        guard try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM artifacts WHERE id = ?)", arguments: [s.artifact.hex]) == true else {
            throw StoreError.missingObject(id: s.artifact.hex, what: "artifact")
        }
        let now = Date().timeIntervalSince1970
        try db.execute(sql: "INSERT OR IGNORE INTO signatures (artifact, key, signature, signer, created_at) VALUES (?, ?, ?, ?, ?)",
                       arguments: [s.artifact.hex, s.key, s.signature, s.signer, now])
        guard db.changesCount > 0 else { return }
        try appendAudit(db, time: now, action: "sign", name: name ?? s.signer, old: nil, new: s.artifact,
                        command: command + " [key \(ArtifactSignature.fingerprint(s.key))]", actor: actor)
    }

    /// The signatures recorded on an artifact, by key.
    public func signatures(of id: ArtifactID) throws -> [ArtifactSignature] {
        try catalogRead { db in
            try Row.fetchAll(db, sql: "SELECT * FROM signatures WHERE artifact = ? ORDER BY key", arguments: [id.hex]).map {
                ArtifactSignature(artifact: id, key: $0["key"], signature: $0["signature"], signer: $0["signer"])
            }
        }
    }

    /// Every signature in the registry.
    public func allSignatures() throws -> [ArtifactSignature] {
        try catalogRead { db in
            try Row.fetchAll(db, sql: "SELECT * FROM signatures ORDER BY artifact, key").map {
                ArtifactSignature(artifact: ArtifactID(unchecked: $0["artifact"]), key: $0["key"], signature: $0["signature"],
                                  signer: $0["signer"])
            }
        }
    }

    // MARK: - Trust

    /// Trusts a public key as speaking for `team`; audited as `trust`.
    ///
    /// - Throws: `StoreError.invalidKey`.
    public func trust(key: String, as team: String, command: String, actor: String? = nil) throws {
        _ = try ArtifactSignature.publicKey(key)
        try RefName.validate(team)
        try catalogWrite { db in
            let now = Date().timeIntervalSince1970
            let old = try String.fetchOne(db, sql: "SELECT team FROM trusted_keys WHERE key = ?", arguments: [key])
            guard old != team else { return }
            try db.execute(sql: "INSERT OR REPLACE INTO trusted_keys (key, team, added_at) VALUES (?, ?, ?)",
                           arguments: [key, team, now])
            try appendAudit(db, time: now, action: "trust", name: team, old: nil, new: nil,
                            command: command + " [key \(ArtifactSignature.fingerprint(key))]", actor: actor)
        }
    }

    /// Keys this registry trusts, by team.
    public func trustedKeys() throws -> [TrustedKey] {
        try catalogRead { db in
            try Row.fetchAll(db, sql: "SELECT * FROM trusted_keys ORDER BY team, key").map {
                TrustedKey(key: $0["key"], team: $0["team"], addedAt: Date(timeIntervalSince1970: $0["added_at"]))
            }
        }
    }
}
