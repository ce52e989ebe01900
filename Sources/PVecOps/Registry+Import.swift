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
        let loaded = try LoadedTensor.read(req.url, key: req.key)
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
            backbone = Backbone(model: backboneID ?? "unknown", width: t.shape.width)
        }
        let recipe = ImportRecipe(format: loaded.format, sha256: loaded.sourceSHA256, key: loaded.key,
                                  peftConfig: loaded.peftConfig?.objectValue, nonfinite: req.allowNonfinite && !t.isFinite)
        return try store(t, kind: req.kind, recipe: recipe.recipe, parents: parents,
                         backbone: backbone, name: req.name, command: command)
    }

    /// Writes an artifact's tensor as safetensors, .npy or a PEFT adapter directory.
    ///
    /// Files are written to a temp file and renamed, so a failed export leaves nothing behind.
    /// - Parameters:
    ///   - dtype: F32 (default), F16, BF16 or F64 for safetensors and npy.
    public func export(_ spec: String, to url: URL, format: TensorFileFormat, dtype: DType = .f32) throws -> ArtifactID {
        let o = try operand(spec)
        guard o.manifest.blob != nil else {
            throw OpsError.wrongKind(spec, o.manifest.kind, expected: "an artifact with a tensor")
        }
        let t = try tensor(o.id)
        switch format {
        case .safetensors:
            var meta = ["pvec_id": o.id.hex, "pvec_kind": o.manifest.kind.rawValue]
            if let b = o.manifest.backbone { meta["backbone"] = b.model }
            try AtomicFile.write(Safetensors.encode(["tensor": t], dtype: dtype, metadata: meta), to: url)
        case .npy:
            try AtomicFile.write(NPY.encode(t, dtype: dtype), to: url)
        case .peft:
            // The adapter config an imported PEFT adapter came with; other artifacts have none.
            let config = (try? ImportRecipe(o.manifest.recipe))?.peftConfig.map(JSONValue.object)
            try PEFTAdapter.write(tensor: t, config: config, baseModel: o.manifest.backbone?.model, to: url)
        }
        return o.id
    }
}
