import Foundation
import PVecStore

/// Where a registry server keeps blob bytes: immutable objects named by the SHA-256 of their
/// canonical encoding. The default is the registry's `objects/` folder; an S3-compatible
/// bucket can implement the same three calls (docs/publishing.md, "Storage").
public protocol BlobStore: Sendable {
    func hasBlob(_ id: BlobID) -> Bool
    /// The stored bytes (PVB1 header + zlib), as they travel.
    func encodedBlob(_ id: BlobID) throws -> [UInt8]
    /// Checks the bytes decode and hash to `id`, then stores them; false if already there.
    @discardableResult
    func putEncodedBlob(_ encoded: [UInt8], as id: BlobID) throws -> Bool
    /// Checks every blob as `putEncodedBlob` does and stores them, all or none; returns how
    /// many were written (`RegistryServer+Packs.swift` has a default that stores one by one).
    @discardableResult
    func putEncodedBlobs(_ list: [(id: BlobID, encoded: [UInt8])]) throws -> Int
}

/// Where a registry server keeps everything else: manifests and their index, names with
/// compare-and-swap, signatures, tokens, pins and the audit chain. The default is the
/// registry's SQLite catalog; each call is one transaction, which a PostgreSQL catalog can
/// give as well.
public protocol CatalogStore: Sendable {
    func hasArtifact(_ id: ArtifactID) -> Bool
    func manifestBytes(_ id: ArtifactID) throws -> [UInt8]
    func refs() throws -> [RefEntry]
    func closure(of roots: [ArtifactID]) throws -> TransferClosure
    func signatures(of id: ArtifactID) throws -> [ArtifactSignature]
    /// Manifests, names and signatures in one transaction, audited with `actor`.
    @discardableResult
    func receive(_ batch: IncomingBatch, source: String, command: String, actor: String?) throws -> [ArtifactID]
    /// Compare-and-swap on a name, audited with `actor`.
    @discardableResult
    func updateRef(_ name: String, to id: ArtifactID, expected: ArtifactID??, command: String, actor: String?) throws -> Int
    /// The live token with this id and secret: nil when unknown, wrong, revoked or expired.
    func token(id: String, secret: String) throws -> AccessToken?
    func pin(_ ids: [String], for duration: TimeInterval) throws
}

extension Registry: BlobStore, CatalogStore {}
