import Foundation
import PVecStore
import PVecTensor

/// What to import and how to record it.
public struct ImportRequest: Sendable {
    /// The safetensors file, .npy file or PEFT adapter directory to read.
    public var url: URL
    /// The name to point at the imported artifact.
    public var name: String
    /// The artifact's kind: init, prompt (the default) or vector.
    public var kind: ArtifactKind = .prompt
    /// The init a prompt was tuned from; gives it a task vector.
    public var initSpec: String?
    /// Backbone model id; PEFT adapters name theirs in the config.
    public var backbone: String?
    /// Which tensor of a multi-tensor safetensors file.
    public var key: String?
    /// Keep NaN or Inf rather than refuse; recorded as `nonfinite` only if the tensor holds one.
    public var allowNonfinite = false
    /// The format to read the path as; nil guesses from the path (a directory is a PEFT adapter).
    public var format: TensorFileFormat?

    /// A request to import `url` as a prompt named `name`; set the other fields as needed.
    ///
    /// ```swift
    /// var req = ImportRequest(url: URL(fileURLWithPath: "sst2.safetensors"), name: "sst2")
    /// req.initSpec = "init-100x768"
    /// let s = try registry.importTensor(req, command: "pvec import …")
    /// ```
    public init(url: URL, name: String) {
        self.url = url
        self.name = name
    }
}

extension Registry {
    /// Imports a tensor from a safetensors file, .npy file or PEFT prompt-tuning adapter.
    ///
    /// The recipe records the format, the source file's SHA-256 and (PEFT) the adapter config,
    /// so export can write the adapter back. Nothing is stored when a check fails.
    ///
    /// - Throws: `TensorError` for unreadable files, `OpsError` for NaN/Inf, kind, shape or
    ///   backbone problems.
    public func importTensor(_ req: ImportRequest, command: String) throws -> Stored {
        guard req.kind.isPromptShaped else {
            throw OpsError.wrongKind(req.url.lastPathComponent, req.kind, expected: "init, prompt or vector")
        }
        try RefName.validate(req.name)
        let loaded = try LoadedTensor.read(req.url, key: req.key, format: req.format)
        var t = loaded.tensor
        if t.shape.rank == 1 { t = try t.reshaped([1, t.count]) }
        guard t.shape.rank == 2 else {
            throw TensorError.shapeMismatch("\(req.url.lastPathComponent) holds a \(t.shape) tensor; a soft prompt is 2-D [tokens, width]")
        }
        guard t.shape.dims.allSatisfy({ $0 > 0 }) else {
            throw TensorError.shapeMismatch("\(req.url.lastPathComponent) holds an empty \(t.shape) tensor; a soft prompt needs at least one token row and one column")
        }
        if !req.allowNonfinite && !t.isFinite {
            throw OpsError.nonFinite(req.url.lastPathComponent)
        }
        var parents: [Parent] = []
        if !req.allowNonfinite, let bad = loaded.extras.keys.sorted().first(where: { !(loaded.extras[$0]?.tensor.isFinite ?? true) }) {
            throw OpsError.nonFinite("\(req.url.lastPathComponent) (tensor \(TerminalText.quoted(bad)))")
        }
        if let c = loaded.peftConfig, let field = TerminalText.firstUnsafeString(in: c) {
            throw StoreError.invalidAdapter(path: req.url.path, reason: "config field \(field) holds control characters; pvec keeps only printable text")
        }
        if let b = req.backbone, let c = TerminalText.firstUnsafe(b) {
            throw OpsError.invalidRequest("a backbone id may not hold \(TerminalText.describe(c)); give a printable --backbone")
        }
        var backboneID = req.backbone ?? loaded.peftConfig?["base_model_name_or_path"]?.stringValue
        var backbone: Backbone?
        if let initSpec = req.initSpec {
            let i = try operand(initSpec)
            guard i.manifest.kind.isPromptShaped, i.manifest.kind != .vector else {
                throw OpsError.wrongKind(initSpec, i.manifest.kind, expected: "an init or prompt")
            }
            guard i.manifest.shape == t.shape else {
                throw OpsError.shapeMismatch(req.url.lastPathComponent, t.shape, initSpec, i.manifest.shape ?? [])
            }
            if let ib = i.manifest.backbone {
                if let b = backboneID, b != ib.model {
                    throw OpsError.backboneMismatch("\(req.url.lastPathComponent) (\(b))", "\(initSpec) (\(ib))")
                }
                backboneID = ib.model
                backbone = ib
            }
            parents.append(Parent(.`init`, i.id))
        }
        if backbone == nil {
            backbone = Backbone(model: backboneID ?? Backbone.unknownModel, width: t.shape.width)
        }
        var notes: [String] = []
        if loaded.dtype == .f64 || loaded.extras.values.contains(where: { $0.dtype == .f64 }) {
            notes.append("note: \(req.url.lastPathComponent) holds F64 values; pvec stores F32, so they were rounded to F32")
        }
        if !loaded.extras.isEmpty {
            parents.append(Parent(.module, try storeAdapterExtras(loaded, backbone: backbone, command: command)))
        }
        // The element type is kept for adapters only, so re-importing a safetensors or .npy
        // file gives the id it always gave.
        let recipe = ImportRecipe(format: loaded.format, sha256: loaded.sourceSHA256, key: loaded.key,
                                  peftConfig: loaded.peftConfig?.objectValue, nonfinite: req.allowNonfinite && !t.isFinite,
                                  dtype: loaded.format == .peft ? loaded.dtype : nil)
        var stored = try store(t, kind: req.kind, recipe: recipe.recipe, parents: parents,
                               backbone: backbone, name: req.name, command: command)
        stored.notes = notes
        return stored
    }

    /// Stores a PEFT adapter's tensors besides `prompt_embeddings` as one `module` artifact
    /// (recipe `import` with `dtypes`, the element type of each), which the prompt links as
    /// its `module` parent; export writes them back bit for bit.
    private func storeAdapterExtras(_ loaded: LoadedTensor, backbone: Backbone?, command: String) throws -> ArtifactID {
        var tensors = loaded.extras.mapValues(\.tensor)
        guard tensors["tensor"] == nil else {
            throw StoreError.invalidAdapter(path: PEFTAdapter.weightsFile, reason: "a tensor named \"tensor\" besides prompt_embeddings is not supported")
        }
        let packed = tensors.keys.sorted().flatMap { tensors[$0]?.scalars ?? [] }
        tensors["tensor"] = Tensor(shape: [packed.count], scalars: packed)
        let blob = try putBlob(tensors)
        let recipe = ImportRecipe(format: loaded.format, sha256: loaded.sourceSHA256,
                                  dtypes: loaded.extras.mapValues(\.dtype))
        let m = Manifest(kind: .module, blob: blob, shape: [packed.count], backbone: backbone,
                         parents: [], recipe: recipe.recipe)
        return try writeManifest(m)
    }

    /// Writes an artifact's tensor as safetensors, .npy or a PEFT adapter directory.
    ///
    /// Files are written to a temp file and renamed, so a failed export leaves nothing behind.
    /// A PEFT export writes the adapter config the artifact carries (`AdapterProfile`), its
    /// backbone as `base_model_name_or_path` (null when unknown), and its other tensors (a
    /// classifier head) in the element types they were imported in.
    /// - Parameters:
    ///   - dtype: F32, F16, BF16 or F64; nil writes the type the artifact was imported in
    ///     (carried through arithmetic), else F32 (and F32 for .npy, which has no BF16).
    ///   - key: the tensor's key in a safetensors file (default `prompt_embeddings`).
    ///   - allowVector: write a task vector as a PEFT adapter (refused otherwise).
    ///   - weightsMetadata: entries for a PEFT adapter's weights metadata besides `format`
    ///     (PVecTrain records the training placement there).
    /// - Throws: `OpsError.vectorAsAdapter` for a vector without `allowVector`; file errors.
    public func export(_ spec: String, to url: URL, format: TensorFileFormat, dtype: DType? = nil,
                       key: String = PEFTAdapter.tensorKey, allowVector: Bool = false,
                       weightsMetadata: [String: String] = [:]) throws -> ArtifactID {
        let o = try operand(spec)
        guard o.manifest.blob != nil else {
            throw OpsError.wrongKind(spec, o.manifest.kind, expected: "an artifact with a tensor")
        }
        if format == .peft && o.manifest.kind == .vector && !allowVector {
            throw OpsError.vectorAsAdapter(spec)
        }
        let profile = AdapterProfile.of(o.manifest)
        let t = try tensor(of: o, batch: nil)
        switch format {
        case .safetensors:
            var meta = ["pvec_id": o.id.hex, "pvec_kind": o.manifest.kind.rawValue]
            if let b = o.manifest.backbone { meta["backbone"] = b.model }
            guard !key.isEmpty, key != "__metadata__" else {
                throw OpsError.invalidRequest("a safetensors key must be a non-empty name other than __metadata__; give --key NAME")
            }
            try AtomicFile.write(Safetensors.encode([key: t], dtype: dtype ?? profile.dtype ?? .f32, metadata: meta), to: url)
        case .npy:
            let d = dtype ?? (profile.dtype == .bf16 ? .f32 : profile.dtype ?? .f32)
            try AtomicFile.write(NPY.encode(t, dtype: d), to: url)
        case .peft:
            var extras: [String: PEFTAdapter.Extra] = [:]
            if let head = profile.head {
                let m = try manifest(head)
                if let types = (try? ImportRecipe(m.recipe))?.dtypes, let b = m.blob {
                    for (k, v) in try blob(b) where k != "tensor" {
                        extras[k] = PEFTAdapter.Extra(tensor: v, dtype: types[k] ?? .f32)
                    }
                }
            }
            let model = o.manifest.backbone.map(\.model).flatMap { $0 == Backbone.unknownModel ? nil : $0 }
            try PEFTAdapter.write(tensor: t, dtype: dtype ?? profile.dtype ?? .f32, extras: extras,
                                  config: profile.config.map(JSONValue.object), baseModel: model,
                                  metadata: weightsMetadata, to: url)
        }
        return o.id
    }
}
