import Foundation
import PVecStore

/// What a server token may do.
///
/// The grammar, exactly (nothing else is a scope, and case matters):
/// - `read`: list names, fetch manifests, blobs and closures.
/// - `write:*`: read, upload objects, and move every name.
/// - `write:P`: read, upload objects, and move the names P covers. P without one trailing `/`
///   must be a valid ref name (`RefName`). `write:P` with P not ending in `/` covers the name P
///   itself and every name under `P/`; `write:P/` covers only names under `P/`. So
///   `write:team-a` allows `team-a` and `team-a/x`, never `team-ab/x`; `write:team-a/` allows
///   `team-a/x`, not `team-a`. There are no other wildcards.
public enum TokenScope: Hashable, Sendable {
    case read
    /// Every name.
    case writeAll
    /// `prefix` is the text after `write:`, as given.
    case write(prefix: String)

    /// - Throws: `RemoteError.invalidScope` saying what is wrong.
    public init(parsing text: String) throws {
        if text == "read" { self = .read; return }
        if text == "write:*" { self = .writeAll; return }
        guard text.hasPrefix("write:") else { throw RemoteError.invalidScope(text) }
        let prefix = String(text.dropFirst(6))
        let stem = prefix.hasSuffix("/") ? String(prefix.dropLast()) : prefix
        guard !stem.isEmpty, RefName.isValid(stem) else { throw RemoteError.invalidScope(text) }
        self = .write(prefix: prefix)
    }

    public var text: String {
        switch self {
        case .read: return "read"
        case .writeAll: return "write:*"
        case .write(let p): return "write:" + p
        }
    }

    /// Whether this scope lets its holder move `name` (a plain name, no `@N`).
    public func allowsWriting(_ name: String) -> Bool {
        switch self {
        case .read: return false
        case .writeAll: return true
        case .write(let p):
            if p.hasSuffix("/") { return name.hasPrefix(p) && name.count > p.count }
            return name == p || name.hasPrefix(p + "/")
        }
    }

    var isWrite: Bool { self != .read }
}

extension AccessToken {
    /// Scopes that parse; anything else stored in the catalog grants nothing.
    var parsedScopes: [TokenScope] { scopes.compactMap { try? TokenScope(parsing: $0) } }

    var canRead: Bool { !parsedScopes.isEmpty }

    var canUpload: Bool { parsedScopes.contains(where: \.isWrite) }

    func canWrite(name: String) -> Bool { parsedScopes.contains { $0.allowsWriting(name) } }
}

extension Registry {
    /// Creates a server token with checked scopes and returns its bearer text (shown once);
    /// see `createToken(name:scopes:expiresAt:command:)`.
    public func createToken(name: String, scopes: [TokenScope], expiresAt: Date? = nil, command: String) throws -> String {
        BearerToken.text(try createToken(name: name, scopes: scopes.map(\.text), expiresAt: expiresAt, command: command))
    }
}
