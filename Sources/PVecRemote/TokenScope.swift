import PVecStore

/// What a server token may do: `read`, or `write:<name prefix>` (`write:*` for every name).
/// Writing implies reading; uploading objects needs some write scope, moving a name needs one
/// whose prefix the name starts with.
public enum TokenScope: Hashable, Sendable {
    case read
    case write(prefix: String)

    /// - Throws: `RemoteError.invalidScope`.
    public init(parsing text: String) throws {
        if text == "read" {
            self = .read
        } else if text.hasPrefix("write:"), text.count > 6 {
            self = .write(prefix: String(text.dropFirst(6)))
        } else {
            throw RemoteError.invalidScope(text)
        }
    }

    public var text: String {
        switch self {
        case .read: return "read"
        case .write(let p): return "write:" + p
        }
    }
}

extension AccessToken {
    var parsedScopes: [TokenScope] { scopes.compactMap { try? TokenScope(parsing: $0) } }

    var canRead: Bool { !parsedScopes.isEmpty }

    var canUpload: Bool {
        parsedScopes.contains { if case .write = $0 { return true } else { return false } }
    }

    func canWrite(name: String) -> Bool {
        parsedScopes.contains {
            if case .write(let p) = $0 { return p == "*" || name.hasPrefix(p) } else { return false }
        }
    }
}
