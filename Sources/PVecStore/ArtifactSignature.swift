import Crypto
import PVecTensor
import Foundation

/// An Ed25519 signature on an artifact.
///
/// The signed message is `"pvec-signature-v1\n"` followed by the 64 hex digits of the manifest
/// id. The id is the hash of the manifest, which names its blob and parents by hash, so one
/// signature covers the artifact's whole lineage.
public struct ArtifactSignature: Hashable, Sendable {
    /// The manifest id the signature covers.
    public var artifact: ArtifactID
    /// `ed25519:<base64 of the 32-byte public key>`.
    public var key: String
    /// Base64 of the 64-byte signature.
    public var signature: String
    /// The name the signer gave its key (informational: trust is decided by the key).
    public var signer: String?

    /// Wraps stored or received fields; nothing is checked here (see `isValid`).
    public init(artifact: ArtifactID, key: String, signature: String, signer: String?) {
        self.artifact = artifact
        self.key = key
        self.signature = signature
        self.signer = signer
    }

    static let prefix = "ed25519:"

    /// The bytes a key signs for `id`: `"pvec-signature-v1\n"` then the 64 hex digits.
    ///
    /// The versioned prefix keeps a pvec signature from being valid as any other signed message.
    public static func message(for id: ArtifactID) -> Data {
        Data(("pvec-signature-v1\n" + id.hex).utf8)
    }

    /// The text form of a public key.
    public static func keyText(_ key: Curve25519.Signing.PublicKey) -> String {
        prefix + key.rawRepresentation.base64EncodedString()
    }

    /// Parses `ed25519:<base64>`.
    ///
    /// - Throws: `StoreError.invalidKey`.
    public static func publicKey(_ text: String) throws -> Curve25519.Signing.PublicKey {
        guard text.hasPrefix(prefix), let raw = Data(base64Encoded: String(text.dropFirst(prefix.count))), raw.count == 32,
              let key = try? Curve25519.Signing.PublicKey(rawRepresentation: raw) else {
            throw StoreError.invalidKey(text)
        }
        return key
    }

    /// Signs `id` with a private key.
    public static func sign(_ id: ArtifactID, with key: Curve25519.Signing.PrivateKey, signer: String?) throws -> ArtifactSignature {
        let sig = try key.signature(for: message(for: id))
        return ArtifactSignature(artifact: id, key: keyText(key.publicKey), signature: sig.base64EncodedString(), signer: signer)
    }

    /// True when the signature verifies against its key and artifact id.
    public var isValid: Bool {
        guard let k = try? Self.publicKey(key), let s = Data(base64Encoded: signature) else { return false }
        return k.isValidSignature(s, for: Self.message(for: artifact))
    }

    /// The longest signer label accepted, in bytes.
    public static let maxSignerLength = 128

    /// Refuses a signer label that could act on a terminal or is absurdly long; the label is
    /// informational, but it is printed beside trust lines.
    ///
    /// - Throws: `StoreError.invalidName`.
    public static func validateSigner(_ signer: String?) throws {
        guard let signer else { return }
        if signer.utf8.count > maxSignerLength {
            throw StoreError.invalidName(name: signer, why: "a signer label is at most \(maxSignerLength) bytes")
        }
        if let c = TerminalText.firstUnsafe(signer) {
            throw StoreError.invalidName(name: signer, why: "a signer label may not hold \(TerminalText.describe(c)) (control characters)")
        }
    }

    /// A short fingerprint of the key, as shown to people: the first 16 hex digits of its SHA-256.
    public static func fingerprint(_ keyText: String) -> String {
        String(PVecTensor.Digest.sha256Hex(Array(keyText.utf8)).prefix(16))
    }
}

/// A key this registry trusts, and the team it speaks for.
public struct TrustedKey: Hashable, Sendable {
    /// The public key, `ed25519:<base64 of the 32-byte public key>`.
    public var key: String
    /// The team the key speaks for.
    public var team: String
    /// When the key was trusted for `team` (trusting it for another team replaces the row).
    public var addedAt: Date
}
