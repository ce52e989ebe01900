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
}

/// Something `verifyAuditLog` found wrong with the chain.
public struct AuditProblem: Hashable, Sendable, CustomStringConvertible {
    public enum Kind: String, Hashable, Sendable {
        /// The row's content no longer hashes to its recorded hash.
        case edited
        /// The row's link names a hash no row has: an entry before it was removed.
        case removed
        /// The row's link names a later row: entries were moved.
        case reordered
        /// The row has no hash (written before the chain; filled on the next write).
        case unchained
    }

    public var kind: Kind
    /// The sequence number of the row at fault.
    public var sequence: Int64
    public var message: String

    public var description: String { "seq \(sequence): \(message)" }
}
