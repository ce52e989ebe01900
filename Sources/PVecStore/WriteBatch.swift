import PVecTensor

/// The blobs, manifests and names of one command, staged and then written together by
/// `Registry.commit(_:)`: every object file first, with one fsync pass and one fsync per
/// folder, then one catalog transaction for all the rows and names.
///
/// A command that stores three artifacts (`pvec add a b`: two task vectors and their sum)
/// pays one round of fsyncs and one catalog commit instead of three of each. Objects are
/// durable before the catalog names them, so a crash at any point leaves a registry that is
/// consistent: at worst whole objects the catalog does not index (`checkIntegrity` reports
/// them, `rebuildCatalog` indexes them, `gc` never removes them). Nothing staged is visible
/// before `commit`; a batch that is never committed writes nothing.
///
/// ```swift
/// let batch = WriteBatch()
/// let blob = try reg.putBlob(tensor, in: batch)
/// let id = try reg.writeManifest(Manifest(kind: .vector, blob: blob, ...), in: batch)
/// try reg.updateRef("tau", to: id, command: "pvec vector ...", in: batch)
/// let versions = try reg.commit(batch)   // [1]: the version of "tau"
/// ```
///
/// A batch belongs to one thread and one registry; it is not reusable after `commit`.
public final class WriteBatch {
    struct StagedBlob {
        var hex: String
        /// Canonical safetensors bytes; encoded for the store only if the object is missing at commit.
        var canonical: [UInt8]
    }

    struct StagedRef {
        var name: String
        var id: ArtifactID
        var expected: ArtifactID??
        var command: String
        var actor: String?
    }

    var blobs: [StagedBlob] = []
    var blobIndex: Set<String> = []
    var manifests: [(id: ArtifactID, manifest: Manifest, bytes: [UInt8])] = []
    var manifestIndex: [ArtifactID: Int] = [:]
    var refs: [StagedRef] = []
    /// The tensors of staged single-tensor blobs, by blob id, so the command reads back what
    /// it has just computed without touching the disk.
    var tensors: [String: Tensor] = [:]
    var committed = false

    /// An empty batch.
    public init() {}

    /// True when nothing is staged.
    public var isEmpty: Bool { blobs.isEmpty && manifests.isEmpty && refs.isEmpty }

    /// The manifest staged under `id`, if any.
    public func manifest(_ id: ArtifactID) -> Manifest? {
        manifestIndex[id].map { manifests[$0].manifest }
    }

    /// The tensor of a staged single-tensor blob.
    public func tensor(blob: BlobID) -> Tensor? {
        tensors[blob.hex]
    }
}

extension WriteBatch {
    /// Keeps a tensor the command has read (checked against its blob id), so a second
    /// operand with the same blob (the init of two prompts) is not read twice.
    public func remember(_ tensor: Tensor, blob: BlobID) {
        tensors[blob.hex] = tensor
    }
}
