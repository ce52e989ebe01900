import Foundation
import PVecStore

/// A signature on an artifact, judged against this registry's trusted keys.
public struct SignatureStatus: Sendable {
    public var signature: ArtifactSignature
    /// The signature verifies against its key and the artifact id.
    public var valid: Bool
    /// The team the key is trusted as, nil when this registry does not trust it.
    public var team: String?

    /// "trusted as team-a", "untrusted key (signer says alice)", "INVALID".
    public var summary: String {
        if !valid { return "INVALID signature" }
        if let team { return "trusted as \(team)" }
        return "untrusted key" + (signature.signer.map { " (signer says \(TerminalText.quoted($0)))" } ?? "")
    }
}

public enum SignatureCheck {
    /// The signatures on `id`, each judged.
    public static func statuses(_ registry: Registry, _ id: ArtifactID) throws -> [SignatureStatus] {
        let trust = Dictionary(try registry.trustedKeys().map { ($0.key, $0.team) }, uniquingKeysWith: { a, _ in a })
        return try registry.signatures(of: id).map { SignatureStatus(signature: $0, valid: $0.isValid, team: trust[$0.key]) }
    }

    /// Every signature in the registry (or on `ids`), judged.
    public static func all(_ registry: Registry, ids: [ArtifactID]? = nil) throws -> [SignatureStatus] {
        let trust = Dictionary(try registry.trustedKeys().map { ($0.key, $0.team) }, uniquingKeysWith: { a, _ in a })
        let sigs = try ids.map { try $0.flatMap { try registry.signatures(of: $0) } } ?? registry.allSignatures()
        return sigs.map { SignatureStatus(signature: $0, valid: $0.isValid, team: trust[$0.key]) }
    }
}
