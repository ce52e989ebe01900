import Foundation
import PVecTensor

/// How to open a registry.
public struct RegistryConfiguration: Sendable {
    /// How long to wait for another process's write lock before failing, in seconds.
    public var busyTimeout: Double
    /// Open without ever writing: no migrations, no temp-file cleanup, writes throw `notWritable`.
    public var readonly: Bool
    /// Who makes changes, for the audit log; nil means `$PVEC_ACTOR`, else `$USER@host`.
    public var actor: String?

    public init(busyTimeout: Double = 10, readonly: Bool = false, actor: String? = nil) {
        self.busyTimeout = busyTimeout
        self.readonly = readonly
        self.actor = actor
    }

    /// The actor recorded when a call names none.
    public var defaultActor: String {
        if let actor { return actor }
        let env = ProcessInfo.processInfo.environment
        if let a = env["PVEC_ACTOR"], !a.isEmpty { return a }
        let user = env["USER"].flatMap { $0.isEmpty ? nil : $0 } ?? "unknown"
        return "\(user)@\(ProcessInfo.processInfo.hostName)"
    }
}

/// A name and where it points now.
public struct RefEntry: Hashable, Sendable {
    public var name: String
    public var id: ArtifactID
    /// 1-based; `name@version` is this entry.
    public var version: Int
    public var updatedAt: Date
}

/// One version of a name (`name@version`).
public struct RefVersion: Hashable, Sendable {
    public var version: Int
    public var id: ArtifactID
    public var time: Date
    /// The command line that made the change, as the caller recorded it.
    public var command: String
}

/// A catalog row, for listings.
public struct ArtifactSummary: Hashable, Sendable {
    public var id: ArtifactID
    public var kind: ArtifactKind
    public var shape: Shape?
    public var backbone: Backbone?
    /// Names currently pointing here.
    public var names: [String]
    public var tags: [String]
    public var createdAt: Date
    /// The recipe's op (`import`, `vector`, `add`...).
    public var op: String
}

/// An artifact and its ancestors up to the roots.
public struct LineageGraph: Sendable {
    /// The artifact asked about.
    public var root: ArtifactID
    /// Every artifact in the graph whose manifest is in the catalog.
    public var nodes: [ArtifactID: Manifest]
    /// Parent edges, children nearest the root first, each child's parents in manifest order.
    public var edges: [(child: ArtifactID, parent: ArtifactID, role: ParentRole)]
}

/// One audit-log row: a change to a name or a tag.
public struct LogEntry: Hashable, Sendable {
    public var sequence: Int64
    public var time: Date
    /// `create-ref`, `update-ref`, `tag`, `sign`, `trust`, `import` or `rebuild-catalog`.
    public var action: String
    public var name: String?
    public var oldID: ArtifactID?
    public var newID: ArtifactID?
    public var command: String
    /// Who made the change (nil for entries written before the audit chain existed).
    public var actor: String?
    /// This entry's link in the hash chain (nil until the chain has been filled in).
    public var hash: String?
}

/// Something `checkIntegrity` found wrong.
public struct IntegrityProblem: Hashable, Sendable, CustomStringConvertible {
    public enum Kind: String, Hashable, Sendable {
        /// A catalog row points at an object file that does not exist.
        case missingObject
        /// An object's bytes do not hash to its id, or do not decode.
        case corruptObject
        /// A manifest object that the catalog does not index (repair: `rebuildCatalog`).
        case notInCatalog
        /// The catalog's copy of a manifest differs from the object.
        case catalogMismatch
        /// An edge (or ref, or tag) to an artifact that is not in the catalog.
        case danglingReference
        /// A manifest whose blob does not hold what the manifest says (shape, key).
        case blobMismatch
    }

    public var kind: Kind
    /// The id (or name) of the object or artifact at fault.
    public var subject: String
    public var message: String

    public var description: String { "\(subject): \(message)" }
}

/// What `gc` removed (or, with `dryRun`, would remove).
public struct GCReport: Hashable, Sendable {
    public var removedArtifacts: [ArtifactID]
    public var removedBlobs: [BlobID]
    /// Paths of stray temp files left by interrupted writes.
    public var removedTempFiles: [String]
    public var bytesFreed: Int64
    public var dryRun: Bool
}
