import Crypto
import Foundation
import PVecStore

/// The folder of signing keys: `<name>.key` (private, mode 0600) and `<name>.pub`.
///
/// Private keys never enter a registry. The folder is `$PVEC_KEYS`, else
/// `~/.config/pvec/keys`.
public struct KeyStore: Sendable {
    public let folder: URL

    public init(folder: URL) {
        self.folder = folder
    }

    /// The folder to use: `$PVEC_KEYS`, else `~/.config/pvec/keys`.
    public static func location(environment: [String: String] = ProcessInfo.processInfo.environment) -> URL {
        if let p = environment["PVEC_KEYS"], !p.isEmpty { return URL(fileURLWithPath: p, isDirectory: true) }
        let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
        return URL(fileURLWithPath: home).appendingPathComponent(".config/pvec/keys", isDirectory: true)
    }

    static let privatePrefix = "ed25519-private:"

    func privateURL(_ name: String) -> URL { folder.appendingPathComponent(name + ".key") }
    func publicURL(_ name: String) -> URL { folder.appendingPathComponent(name + ".pub") }

    /// Makes a new Ed25519 key pair and returns the public key text (`ed25519:<base64>`).
    ///
    /// - Throws: `RemoteError.keyExists`; `StoreError.invalidName` for a bad name.
    public func generate(name: String) throws -> String {
        try RefName.validate(name)
        guard !name.contains("/") else { throw StoreError.invalidName(name: name, why: "a key name has no '/'") }
        if FileManager.default.fileExists(atPath: privateURL(name).path) {
            throw RemoteError.keyExists(name: name, path: privateURL(name).path)
        }
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
        let key = Curve25519.Signing.PrivateKey()
        let priv = Data((Self.privatePrefix + key.rawRepresentation.base64EncodedString() + "\n").utf8)
        // Create with 0600 from the start, so the secret is never readable by others.
        guard FileManager.default.createFile(atPath: privateURL(name).path, contents: priv,
                                             attributes: [.posixPermissions: 0o600]) else {
            throw StoreError.notWritable(path: privateURL(name).path, reason: "cannot create the key file")
        }
        let pub = ArtifactSignature.keyText(key.publicKey)
        try Data((pub + "\n").utf8).write(to: publicURL(name))
        return pub
    }

    /// The private key named `name`.
    ///
    /// - Throws: `RemoteError.keyNotFound`, `StoreError.invalidKey`.
    public func privateKey(name: String) throws -> Curve25519.Signing.PrivateKey {
        guard let text = try? String(contentsOf: privateURL(name), encoding: .utf8) else {
            throw RemoteError.keyNotFound(name: name, folder: folder.path)
        }
        let t = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard t.hasPrefix(Self.privatePrefix), let raw = Data(base64Encoded: String(t.dropFirst(Self.privatePrefix.count))),
              let key = try? Curve25519.Signing.PrivateKey(rawRepresentation: raw) else {
            throw StoreError.invalidKey(privateURL(name).path)
        }
        return key
    }

    /// Names and public keys of the keys in the folder.
    public func list() -> [(name: String, publicKey: String)] {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? [])
            .filter { $0.hasSuffix(".key") }.map { String($0.dropLast(4)) }.sorted()
        return names.compactMap { n in
            (try? privateKey(name: n)).map { (n, ArtifactSignature.keyText($0.publicKey)) }
        }
    }
}
