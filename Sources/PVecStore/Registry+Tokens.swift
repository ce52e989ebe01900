import Crypto
import Foundation
import GRDB
import PVecTensor

/// A new token's id (public, the primary key) and secret (shown once, stored as SHA-256).
public struct TokenCredential: Hashable, Sendable {
    /// 16 lowercase hex digits (8 random bytes): public, and the token's primary key.
    public let id: String
    /// 64 lowercase hex digits (32 random bytes); only its SHA-256 is stored, so it cannot be
    /// shown again.
    public let secret: String
}

/// A server token as the catalog lists it: holder, scopes and state, never the secret or its hash.
public struct AccessToken: Hashable, Sendable {
    /// The public part of the token, also its primary key.
    public var id: String
    /// Who holds it, recorded as the actor of every change made with it.
    public var name: String
    /// `read`, `write:<name prefix>`.
    public var scopes: [String]
    /// When it was created.
    public var createdAt: Date
    /// When it stops being accepted; nil: never.
    public var expiresAt: Date?
    /// When it was revoked; nil: not revoked.
    public var revokedAt: Date?

    /// Wraps a token's fields; a usable token is made only by `Registry.createToken`, which stores it.
    public init(id: String, name: String, scopes: [String], createdAt: Date, expiresAt: Date? = nil, revokedAt: Date? = nil) {
        self.id = id
        self.name = name
        self.scopes = scopes
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.revokedAt = revokedAt
    }

    /// `active`, `expired` or `revoked`.
    public func status(at now: Date = Date()) -> String {
        if revokedAt != nil { return "revoked" }
        if let expiresAt, now >= expiresAt { return "expired" }
        return "active"
    }

    /// Accepted by the server now: not revoked, not expired.
    public func isUsable(at now: Date = Date()) -> Bool { status(at: now) == "active" }
}

extension Registry {
    // MARK: - Tokens

    /// Most characters in a token holder's name.
    public static let maxTokenHolderLength = 64

    /// Checks a holder name: `[A-Za-z0-9][A-Za-z0-9._@-]*`, at most 64 characters.
    ///
    /// - Throws: `StoreError.tokenHolder` saying which rule it breaks.
    public static func validateTokenHolder(_ name: String) throws {
        func bad(_ why: String) -> StoreError { .tokenHolder(name: name, why: why) }
        let u = Array(name.utf8)
        guard !u.isEmpty else { throw bad("the name is empty; pass --name HOLDER") }
        guard u.count <= maxTokenHolderLength else { throw bad("the name is longer than \(maxTokenHolderLength) characters") }
        func isAlnum(_ c: UInt8) -> Bool { (0x30...0x39).contains(c) || (0x41...0x5A).contains(c) || (0x61...0x7A).contains(c) }
        guard isAlnum(u[0]), u.allSatisfy({ isAlnum($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "_")
                                            || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "@") }) else {
            throw bad("a holder name is one word of letters, digits and . _ - @, starting with a letter or digit (e.g. ci or alice@team-a)")
        }
    }

    /// Creates a token and returns its id and secret, which are shown only once (the server
    /// side formats them as a bearer string, `BearerToken` in PVecRemote).
    ///
    /// The holder name must not belong to another token that is not revoked. Creation is in
    /// the audit log (never the secret).
    /// - Parameters:
    ///   - expiresAt: when the server stops accepting it (nil: until revoked).
    /// - Throws: `StoreError.tokenHolder` for a bad or taken holder name.
    public func createToken(name: String, scopes: [String], expiresAt: Date? = nil, command: String) throws -> TokenCredential {
        try Self.validateTokenHolder(name)
        guard !scopes.isEmpty, scopes.allSatisfy({ !$0.isEmpty && !$0.contains(" ") }) else {
            throw StoreError.tokenHolder(name: name, why: "a token needs at least one scope, each one word")
        }
        var rng = SystemRandomNumberGenerator()
        let id = PVecTensor.Digest.hex((0..<8).map { _ in UInt8.random(in: 0...255, using: &rng) })
        let secret = PVecTensor.Digest.hex((0..<32).map { _ in UInt8.random(in: 0...255, using: &rng) })
        try catalogWrite { db in
            if let other = try String.fetchOne(db, sql: "SELECT id FROM tokens WHERE name = ? AND revoked_at IS NULL ORDER BY created_at LIMIT 1",
                                               arguments: [name]) {
                throw StoreError.tokenHolder(name: name, why: "token \(other) already belongs to this holder; revoke it first (`pvec token revoke \(other)`) or choose another --name")
            }
            let now = Date().timeIntervalSince1970
            try db.execute(sql: "INSERT INTO tokens (id, secret_hash, name, scopes, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)",
                           arguments: [id, PVecTensor.Digest.sha256Hex(Array(secret.utf8)), name, scopes.joined(separator: " "), now,
                                       expiresAt?.timeIntervalSince1970])
            let expiry = expiresAt.map { " expires \(Self.isoTime($0))" } ?? ""
            try appendAudit(db, time: now, action: "token", name: name, old: nil, new: nil,
                            command: command + " [token \(id) scopes \(scopes.joined(separator: " "))\(expiry)]", actor: nil)
        }
        return TokenCredential(id: id, secret: secret)
    }

    /// Every token of this registry (revoked and expired ones too), oldest first. Secrets are
    /// never stored, and their hashes are not returned.
    public func tokens() throws -> [AccessToken] {
        try catalogRead { db in
            try Row.fetchAll(db, sql: "SELECT id, name, scopes, created_at, expires_at, revoked_at FROM tokens ORDER BY created_at, id")
                .map(Self.accessToken)
        }
    }

    /// Revokes a token for good: the server refuses it from now on. Audited.
    ///
    /// - Returns: the token as it is now, and whether this call revoked it (false: it already was).
    /// - Throws: `StoreError.unknownToken`.
    @discardableResult
    public func revokeToken(id: String, command: String) throws -> (token: AccessToken, revoked: Bool) {
        try catalogWrite { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT id, name, scopes, created_at, expires_at, revoked_at FROM tokens WHERE id = ?",
                                             arguments: [id]) else {
                throw StoreError.unknownToken(id)
            }
            var token = Self.accessToken(row)
            if token.revokedAt != nil { return (token, false) }
            let now = Date()
            try db.execute(sql: "UPDATE tokens SET revoked_at = ? WHERE id = ?", arguments: [now.timeIntervalSince1970, id])
            try appendAudit(db, time: now.timeIntervalSince1970, action: "token", name: token.name, old: nil, new: nil,
                            command: command + " [revoked token \(id)]", actor: nil)
            token.revokedAt = now
            return (token, true)
        }
    }

    /// The live token with this id and secret, or nil when it is unknown, the secret is
    /// wrong, or it is revoked or expired. The secret is compared in constant time.
    public func token(id: String, secret: String) throws -> AccessToken? {
        guard id.utf8.count == 16, secret.utf8.count == 64 else { return nil }
        let row = try catalogRead { db in
            try Row.fetchOne(db, sql: "SELECT id, secret_hash, name, scopes, created_at, expires_at, revoked_at FROM tokens WHERE id = ?",
                             arguments: [id])
        }
        guard let row else { return nil }
        let stored: String = row["secret_hash"]
        let given = PVecTensor.Digest.sha256Hex(Array(secret.utf8))
        // Compare every byte, so the time taken says nothing about how much matched.
        var diff: UInt8 = 0
        for (a, b) in zip(stored.utf8, given.utf8) { diff |= a ^ b }
        guard diff == 0, stored.utf8.count == given.utf8.count else { return nil }
        let token = Self.accessToken(row)
        return token.isUsable() ? token : nil
    }

    static func accessToken(_ row: Row) -> AccessToken {
        AccessToken(id: row["id"], name: row["name"], scopes: (row["scopes"] as String).split(separator: " ").map(String.init),
                    createdAt: Date(timeIntervalSince1970: row["created_at"]),
                    expiresAt: (row["expires_at"] as Double?).map { Date(timeIntervalSince1970: $0) },
                    revokedAt: (row["revoked_at"] as Double?).map { Date(timeIntervalSince1970: $0) })
    }

    static func isoTime(_ date: Date) -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        return f.string(from: date)
    }
}
