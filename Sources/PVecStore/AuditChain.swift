import Foundation
import PVecTensor

/// The hash chain over `audit_log` (migration 0002).
///
/// Each row's hash is the SHA-256 of the canonical JSON of
/// `{"action","actor","command","name","new","old","prev","time"}`, where `prev` is the hash of
/// the row before (null for the first row) and absent values are JSON null. The sequence number
/// is left out on purpose: a row moved elsewhere keeps a valid hash, so its broken link says
/// "reordered" rather than "edited".
enum AuditChain {
    struct Fields {
        var time: Double
        var action: String
        var name: String?
        var old: String?
        var new: String?
        var command: String
        var actor: String?
    }

    static func hash(_ f: Fields, prev: String?) -> String {
        func opt(_ s: String?) -> JSONValue { s.map { .string($0) } ?? .null }
        let v: JSONValue = [
            "action": .string(f.action), "actor": opt(f.actor), "command": .string(f.command), "name": opt(f.name),
            "new": opt(f.new), "old": opt(f.old), "prev": opt(prev), "time": .double(f.time),
        ]
        return Digest.sha256Hex(v.canonicalBytes)
    }

    /// Text from the catalog, safe to put in a message: control characters are escaped.
    static func printable(_ s: String) -> String {
        var out = ""
        for u in s.unicodeScalars {
            if u.value < 0x20 || (0x7F...0x9F).contains(u.value) {
                out += "\\u{" + String(u.value, radix: 16) + "}"
            } else {
                out.unicodeScalars.append(u)
            }
        }
        return out
    }
}

/// Something `verifyAuditLog` found wrong with the chain, its anchor or the trust store.
public struct AuditProblem: Hashable, Sendable, CustomStringConvertible {
    /// What kind of damage a problem is.
    public enum Kind: String, Hashable, Sendable {
        /// The row's content no longer hashes to its recorded hash.
        case edited
        /// The row's link names a hash no row has: an entry before it was removed.
        case removed
        /// The row's link names a later row: entries were moved.
        case reordered
        /// The row has no hash: inserted behind pvec's back (or written before the chain existed
        /// and never chained); the chain cannot vouch for it.
        case unchained
        /// `logs/refs` recorded a commit at a seq the audit log no longer reaches: its end was cut off.
        case truncated
        /// A row's hash differs from the one `logs/refs` recorded when it was committed.
        case rewritten
        /// The newest rows are not recorded in `logs/refs`: added behind pvec's back.
        case unanchored
        /// `trusted_keys` differs from the trust store the chain's `trust`/`untrust` rows give.
        case trustMismatch
    }

    /// What is wrong.
    public var kind: Kind
    /// The sequence number of the row at fault (0 for a trust-store row).
    public var sequence: Int64
    /// What was found, as a sentence for people.
    public var message: String

    /// `seq N: message`.
    public var description: String { "seq \(sequence): \(message)" }
}

/// An audit head: a seq and the hash of that row.
public struct AuditHead: Hashable, Sendable {
    /// The row's `seq` in `audit_log`.
    public var sequence: Int64
    /// That row's chain hash: 64 lowercase hex digits of SHA-256.
    public var hash: String
}

/// What `verifyAuditLog` checked and found.
public struct AuditReport: Sendable {
    /// Rows in `audit_log`.
    public var entries: Int
    /// The newest row's hash and seq.
    public var head: String?
    /// The newest row's seq (nil: the log is empty).
    public var headSequence: Int64?
    /// The newest head `logs/refs` recorded at a commit of this chain (nil: none yet).
    public var anchor: AuditHead?
    /// Where earlier chains ended, oldest first, for a registry whose catalog was rebuilt by
    /// `pvec verify --repair` (nil: the old chain's head was not known).
    public var previousChains: [AuditHead?]
    /// Every problem, oldest row first; trust-store problems last.
    public var problems: [AuditProblem]
    /// True when no problem was found.
    public var isIntact: Bool { problems.isEmpty }
}
