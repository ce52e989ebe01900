import Crypto
import Foundation
import GRDB
import PVecTensor

/// A bearer token a registry server accepts. Only the SHA-256 of its secret is stored.
public struct AccessToken: Hashable, Sendable {
    /// The public part of the token, also its primary key.
    public var id: String
    /// Who holds it, recorded as the actor of every change made with it.
    public var name: String
    /// `read`, `write:<name prefix>`.
    public var scopes: [String]
    public var createdAt: Date
}

extension Registry {
    // MARK: - Tokens

    /// Creates a token and returns its text, `pvec_<id>_<secret>`, which is shown only once.
    ///
    /// - Throws: `StoreError.invalidName` for an empty holder name.
    public func createToken(name: String, scopes: [String], command: String) throws -> String {
        guard !name.isEmpty, !name.contains(" ") else { throw StoreError.invalidName(name: name, why: "a token holder's name is one word") }
        var rng = SystemRandomNumberGenerator()
        let id = PVecTensor.Digest.hex((0..<8).map { _ in UInt8.random(in: 0...255, using: &rng) })
        let secret = PVecTensor.Digest.hex((0..<32).map { _ in UInt8.random(in: 0...255, using: &rng) })
        try catalogWrite { db in
            let now = Date().timeIntervalSince1970
            try db.execute(sql: "INSERT INTO tokens (id, secret_hash, name, scopes, created_at) VALUES (?, ?, ?, ?, ?)",
                           arguments: [id, PVecTensor.Digest.sha256Hex(Array(secret.utf8)), name, scopes.joined(separator: " "), now])
            try appendAudit(db, time: now, action: "token", name: name, old: nil, new: nil,
                            command: command + " [token \(id) scopes \(scopes.joined(separator: " "))]", actor: nil)
        }
        return "pvec_\(id)_\(secret)"
    }

    /// The token a bearer string stands for, or nil when it is unknown or its secret is wrong.
    public func token(bearer: String) throws -> AccessToken? {
        let parts = bearer.split(separator: "_", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == "pvec", parts[1].count == 16, parts[2].count == 64 else { return nil }
        let row = try catalogRead { db in try Row.fetchOne(db, sql: "SELECT * FROM tokens WHERE id = ?", arguments: [String(parts[1])]) }
        guard let row else { return nil }
        let stored: String = row["secret_hash"]
        let given = PVecTensor.Digest.sha256Hex(Array(parts[2].utf8))
        // Compare every byte, so the time taken says nothing about how much matched.
        var diff: UInt8 = 0
        for (a, b) in zip(stored.utf8, given.utf8) { diff |= a ^ b }
        guard diff == 0, stored.utf8.count == given.utf8.count else { return nil }
        return AccessToken(id: row["id"], name: row["name"], scopes: (row["scopes"] as String).split(separator: " ").map(String.init),
                           createdAt: Date(timeIntervalSince1970: row["created_at"]))
    }
}
