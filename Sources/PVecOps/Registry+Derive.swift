import PVecStore
import PVecTensor

/// The result of a write operation: the artifact and, when a name was given, its new version.
public struct Stored: Sendable {
    /// The stored artifact's id (the hash of its manifest).
    public var id: ArtifactID
    /// The manifest as written.
    public var manifest: Manifest
    /// The name moved to the artifact; nil when none was given.
    public var name: String?
    /// The version of `name` that now points at the artifact (`name@N`); nil without a name.
    public var version: Int?
    /// Things the user should know that are not errors (an F64 file rounded to F32), one line each.
    public var notes: [String] = []

    /// A write result; `version` is the one `updateRef` returned for `name`.
    public init(id: ArtifactID, manifest: Manifest, name: String? = nil, version: Int? = nil) {
        self.id = id
        self.manifest = manifest
        self.name = name
        self.version = version
    }
}

extension Registry {
    /// Computes a derived artifact from its parents with `Derivation`, stores blob and
    /// manifest, and optionally points a name at it.
    ///
    /// - Parameters:
    ///   - kind: the result's kind.
    ///   - recipe: one of `Derivation.recomputable`'s recipes.
    ///   - parents: roles and operands in manifest order (operands must already be checked).
    ///   - name: a ref to move to the result.
    ///   - command: the command line, for the ref history and audit log.
    ///   - peftConfig: the PEFT adapter config the result exports with (`--peft-config`),
    ///     instead of the one its parents carry (see `AdapterProfile.combine`).
    /// - Throws: `OpsError.peftMismatch` when parents from PEFT adapters disagree and no
    ///   `peftConfig` is given; the errors of `Derivation.compute`.
    public func derive(kind: ArtifactKind, recipe: any TypedRecipe, parents: [(role: ParentRole, operand: Operand)],
                       backbone: Backbone?, name: String?, command: String,
                       peftConfig: [String: JSONValue]? = nil,
                       embeddingTable: ((Backbone) throws -> Tensor)? = nil) throws -> Stored {
        try derive(kind: kind, recipe: recipe, parents: parents, tensors: nil, backbone: backbone,
                   name: name, command: command, peftConfig: peftConfig, embeddingTable: embeddingTable).stored
    }

    /// `derive` for callers that already hold the parents' tensors (`tensors`, in parent order;
    /// nil reads them) and want the result's tensor: each blob read costs a file read and a
    /// SHA-256, so `pvec add` should not read back what it has just computed. With a `batch`
    /// the result is staged there (the caller commits); without one it is written at once.
    func derive(kind: ArtifactKind, recipe: any TypedRecipe, parents: [(role: ParentRole, operand: Operand)],
                tensors: [Tensor]?, backbone: Backbone?, name: String?, command: String,
                peftConfig: [String: JSONValue]? = nil,
                embeddingTable: ((Backbone) throws -> Tensor)? = nil,
                batch: WriteBatch? = nil) throws -> (stored: Stored, tensor: Tensor) {
        if let tensors, tensors.count != parents.count {
            throw OpsError.invalidRequest("\(tensors.count) tensors for \(parents.count) parents")
        }
        var profile = try AdapterProfile.combine(parents, override: peftConfig,
                                                 shape: parents.first { $0.role != .module }?.operand.manifest.shape)
        // An init starts a training run, which trains its own head.
        if kind == .`init` { profile.head = nil }
        let inputs = try parents.enumerated().map { k, p in
            (role: p.role, tensor: try tensors?[k] ?? tensor(of: p.operand, batch: batch))
        }
        let result = try Derivation.compute(recipe, parents: inputs, backbone: backbone, embeddingTable: embeddingTable)
        if !result.isFinite {
            throw OpsError.nonFinite("the result of \(type(of: recipe).op)")
        }
        let own = batch ?? WriteBatch()
        var stored = try store(result, kind: kind, recipe: profile.applied(to: recipe.recipe),
                               parents: parents.map { Parent($0.role, $0.operand.id) } + profile.parents,
                               backbone: backbone, name: name, command: command, in: own)
        if batch == nil, let v = try commit(own).first { stored.version = v }
        return (stored, result)
    }

    /// Stores a tensor with its manifest and optionally names it.
    public func store(_ tensor: Tensor, kind: ArtifactKind, recipe: Recipe, parents: [Parent],
                      backbone: Backbone?, metrics: [String: JSONValue] = [:],
                      name: String?, command: String) throws -> Stored {
        let batch = WriteBatch()
        var stored = try store(tensor, kind: kind, recipe: recipe, parents: parents, backbone: backbone, metrics: metrics,
                               name: name, command: command, in: batch)
        if let v = try commit(batch).first { stored.version = v }
        return stored
    }

    /// `store` into a batch: blob, manifest and name are staged; `version` stays nil until the
    /// caller commits (the versions `commit` returns, in staging order).
    func store(_ tensor: Tensor, kind: ArtifactKind, recipe: Recipe, parents: [Parent],
               backbone: Backbone?, metrics: [String: JSONValue] = [:],
               name: String?, command: String, in batch: WriteBatch) throws -> Stored {
        let blob = try putBlob(tensor, in: batch)
        let manifest = Manifest(kind: kind, blob: blob, shape: tensor.shape, backbone: backbone,
                                parents: parents, recipe: recipe, metrics: metrics)
        let id = try writeManifest(manifest, in: batch)
        if let name { try updateRef(name, to: id, command: command, in: batch) }
        return Stored(id: id, manifest: manifest, name: name, version: nil)
    }

    /// The main tensor of an operand, from the batch when the command has just staged or read
    /// it, else from its blob (the manifest is already in hand); remembered in the batch.
    func tensor(of o: Operand, batch: WriteBatch?) throws -> Tensor {
        guard let b = o.manifest.blob else { throw StoreError.noTensor(o.id) }
        if let t = batch?.tensor(blob: b) { return t }
        guard let t = try blob(b)["tensor"] else { throw StoreError.noTensor(o.id) }
        batch?.remember(t, blob: b)
        return t
    }
}

extension Registry {
    /// `derive` into `batch` (which may already hold derived operands), then commits it all:
    /// one group of object writes and one catalog transaction for the whole command.
    func deriveAndCommit(kind: ArtifactKind, recipe: any TypedRecipe, parents: [(role: ParentRole, operand: Operand)],
                         tensors: [Tensor]?, backbone: Backbone?, name: String?, command: String,
                         peftConfig: [String: JSONValue]? = nil, batch: WriteBatch) throws -> Stored {
        var stored = try derive(kind: kind, recipe: recipe, parents: parents, tensors: tensors, backbone: backbone,
                                name: name, command: command, peftConfig: peftConfig, batch: batch).stored
        if let v = try commit(batch).last, name != nil { stored.version = v }
        return stored
    }
}
