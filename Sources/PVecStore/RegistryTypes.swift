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

    /// A configuration; by default it waits 10 s for a lock, may write, and takes the actor from
    /// the environment (see `defaultActor`).
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
    /// The name, e.g. `team-a/mnli`.
    public var name: String
    /// The artifact it points at now.
    public var id: ArtifactID
    /// 1-based; `name@version` is this entry.
    public var version: Int
    /// When the name last moved (its newest version).
    public var updatedAt: Date
}

/// One version of a name (`name@version`).
public struct RefVersion: Hashable, Sendable {
    /// 1-based; `name@version` selects it.
    public var version: Int
    /// The artifact the name pointed at in this version.
    public var id: ArtifactID
    /// When the name moved to it.
    public var time: Date
    /// The command line that made the change, as the caller recorded it.
    public var command: String
}

/// A catalog row, for listings.
public struct ArtifactSummary: Hashable, Sendable {
    /// The artifact.
    public var id: ArtifactID
    /// What the artifact is.
    public var kind: ArtifactKind
    /// Shape of the main tensor; nil when there is no blob (evaluations).
    public var shape: Shape?
    /// The backbone its manifest names; nil when it names none.
    public var backbone: Backbone?
    /// Names currently pointing here.
    public var names: [String]
    /// Tags on the artifact, sorted.
    public var tags: [String]
    /// When the artifact entered this catalog (catalog data: not in the manifest or its id).
    public var createdAt: Date
    /// The recipe's op (`import`, `vector`, `add`...).
    public var op: String
}

/// An artifact and its ancestors up to the roots.
///
/// Built from the catalog's columns and edges alone: no manifest is decoded (ask
/// `manifest(_:)` for one when its recipe or metrics are wanted).
public struct LineageGraph: Sendable {
    /// What the catalog keeps about one artifact of the graph.
    public struct Node: Sendable, Equatable {
        public var kind: ArtifactKind
        /// The recipe's op (`train`, `add`, `import`, …).
        public var op: String
        /// The names pointing at it now, sorted.
        public var names: [String]
    }

    /// The artifact asked about.
    public var root: ArtifactID
    /// Every artifact in the graph that is in the catalog.
    public var nodes: [ArtifactID: Node]
    /// Parent edges, children nearest the root first, each child's parents in manifest order.
    public var edges: [(child: ArtifactID, parent: ArtifactID, role: ParentRole)]

    /// The parents of `id` in manifest order, with their roles.
    public func parents(of id: ArtifactID) -> [(id: ArtifactID, role: ParentRole)] {
        edges.filter { $0.child == id }.map { ($0.parent, $0.role) }
    }
}

/// One audit-log row: a change to a name or a tag.
public struct LogEntry: Hashable, Sendable {
    /// The row's `seq` in `audit_log`: unique and increasing.
    public var sequence: Int64
    /// When the change was made.
    public var time: Date
    /// `create-ref`, `update-ref`, `tag`, `sign`, `trust`, `untrust`, `token` (created or revoked),
    /// `remote-tag` (a push moved a name on a remote; see `recordRemoteTagMoves`),
    /// `import` or `rebuild-catalog`.
    public var action: String
    /// What the change is about: the name, tag, team (`trust`), token holder (`token`), signer or
    /// name (`sign`) or source (`import`); nil for `rebuild-catalog`.
    public var name: String?
    /// The artifact the name pointed at before (`update-ref`); nil otherwise, and nil when the row
    /// holds a key instead of an artifact id (`untrust`).
    public var oldID: ArtifactID?
    /// The artifact the change concerns (new target, tagged, signed, the one new import); nil when
    /// there is none or the row holds a key instead (`trust`).
    public var newID: ArtifactID?
    /// The command line that made the change, as the caller recorded it (pvec appends details
    /// in brackets).
    public var command: String
    /// Who made the change (nil for entries written before the audit chain existed).
    public var actor: String?
    /// This entry's link in the hash chain (nil until the chain has been filled in).
    public var hash: String?
}

/// Something `checkIntegrity` found wrong.
public struct IntegrityProblem: Hashable, Sendable, CustomStringConvertible {
    /// What kind of fault a problem is.
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

    /// What is wrong.
    public var kind: Kind
    /// The id (or name) of the object or artifact at fault.
    public var subject: String
    /// What was found, and the fix where there is one (`pvec verify --repair`).
    public var message: String

    /// `subject: message`.
    public var description: String { "\(subject): \(message)" }
}

/// What `gc` removed (or, with `dryRun`, would remove).
public struct GCReport: Hashable, Sendable {
    /// Unreachable artifacts whose catalog rows and manifest objects went (or would go).
    public var removedArtifacts: [ArtifactID]
    /// Blob objects that went (or would go): those of removed artifacts, and unused ones older
    /// than the grace period.
    public var removedBlobs: [BlobID]
    /// Paths of stray temp files left by interrupted writes.
    public var removedTempFiles: [String]
    /// Bytes on disk of the files listed (a blob whose deletion failed is neither listed nor counted).
    public var bytesFreed: Int64
    /// True when nothing was removed: the report says what would go.
    public var dryRun: Bool
}
