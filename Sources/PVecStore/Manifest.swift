import PVecTensor

/// What an artifact is.
public enum ArtifactKind: String, Sendable, Codable, CaseIterable {
    /// The starting prompt of a prompt-tuning run, regenerable from its recipe.
    case `init`
    /// A tuned (or imported) soft prompt, [tokens, width].
    case prompt
    /// A task prompt vector (tuned - init) or arithmetic on vectors.
    case vector
    /// Trained parameters of a composition method (ATTEMPT attention, AMP, ComPT router...).
    case module
    /// A composed prompt that needs a module at inference.
    case mixture
    /// A score of an artifact on a dataset; has no blob.
    case evaluation

    /// Kinds whose blob is a single [rows, width] tensor living in a backbone's embedding space.
    public var isPromptShaped: Bool { self == .`init` || self == .prompt || self == .vector }
}

/// How a parent contributed to an artifact.
public enum ParentRole: String, Sendable, Codable, CaseIterable {
    /// `tuned`: the tuned prompt (of a vector, or a mixture's target); `init`: the prompt it started
    /// from; `operand`: an input of arithmetic; `source`: a source prompt of a composition; `module`: the
    /// module a mixture needs; `evaluated`: what an evaluation scored.
    case tuned, `init`, operand, source, module, evaluated
}

/// One parent edge: the role and the parent's id. Order within a manifest is significant
/// (operands of `sub` are ordered).
public struct Parent: Hashable, Sendable, Codable {
    /// How this parent contributed.
    public var role: ParentRole
    /// The parent's manifest id.
    public var id: ArtifactID

    /// An edge to the parent `id` in `role`.
    public init(_ role: ParentRole, _ id: ArtifactID) {
        self.role = role
        self.id = id
    }
}

/// The operation that produced an artifact and its parameters; enough, with the parents,
/// to re-create it (`import` recipes record where bytes came from instead).
public struct Recipe: Hashable, Sendable, Codable {
    /// The operation's name (`import`, `vector`, `add`...); must not be empty.
    public var op: String
    /// The operation's parameters; numbers must be finite (see `Manifest.validate`).
    public var params: [String: JSONValue]

    /// A recipe for `op` with `params` (none by default).
    public init(op: String, params: [String: JSONValue] = [:]) {
        self.op = op
        self.params = params
    }
}

/// An artifact's manifest. Its id is the SHA-256 of `canonicalBytes`.
///
/// No timestamps or user names live here: the same inputs and recipe give the same id on any
/// machine. When an artifact was recorded, and by whom, is catalog data.
public struct Manifest: Hashable, Sendable {
    /// Manifest format version.
    public static let currentSchema = 1

    /// This manifest's format version; `init(json:)` reads only `currentSchema`.
    public var schema: Int = Manifest.currentSchema
    /// What the artifact is; prompt-shaped kinds need a 2-D blob (see `validate`).
    public var kind: ArtifactKind
    /// The tensor data; nil for evaluations.
    public var blob: BlobID?
    /// Shape of the main tensor (`"tensor"` key of the blob); nil when there is no blob.
    public var shape: Shape?
    /// Always F32 for stored tensors.
    public var dtype: DType?
    /// The model whose embedding space the tensor lives in; nil when it names none.
    public var backbone: Backbone?
    /// Parent edges, in order (significant: the operands of `sub`); part of the id.
    public var parents: [Parent]
    /// How the artifact was made.
    public var recipe: Recipe
    /// Numbers recorded with the artifact (loss, accuracy...); finite only, and part of the id.
    public var metrics: [String: JSONValue]

    /// A manifest whose `dtype` is F32 when there is a blob and nil otherwise.
    ///
    /// Nothing is checked here: `validate()` does that, and `Registry.writeManifest` calls it.
    public init(kind: ArtifactKind, blob: BlobID?, shape: Shape?, backbone: Backbone?,
                parents: [Parent] = [], recipe: Recipe, metrics: [String: JSONValue] = [:]) {
        self.kind = kind
        self.blob = blob
        self.shape = shape
        self.dtype = blob == nil ? nil : .f32
        self.backbone = backbone
        self.parents = parents
        self.recipe = recipe
        self.metrics = metrics
    }

    // MARK: - Canonical JSON

    /// The manifest as a JSON value; absent optionals are omitted.
    public var json: JSONValue {
        var o: [String: JSONValue] = [
            "schema": .int(Int64(schema)),
            "kind": .string(kind.rawValue),
            "parents": .array(parents.map { ["role": .string($0.role.rawValue), "id": .string($0.id.hex)] }),
            "recipe": ["op": .string(recipe.op), "params": .object(recipe.params)],
            "metrics": .object(metrics),
        ]
        if let blob { o["blob"] = .string(blob.hex) }
        if let shape { o["shape"] = .array(shape.dims.map { .int(Int64($0)) }) }
        if let dtype { o["dtype"] = .string(dtype.rawValue) }
        if let backbone {
            var b: [String: JSONValue] = ["model": .string(backbone.model), "width": .int(Int64(backbone.width))]
            if let e = backbone.embedding { b["embedding"] = .string(e) }
            o["backbone"] = .object(b)
        }
        return .object(o)
    }

    /// The canonical JSON of `json`, no trailing newline: the manifest object's bytes, and what
    /// `id` hashes.
    public var canonicalBytes: [UInt8] { json.canonicalBytes }

    /// The content address of this manifest.
    public var id: ArtifactID { ArtifactID(unchecked: Digest.sha256Hex(canonicalBytes)) }

    /// Decodes a manifest from its JSON, checking every field.
    ///
    /// - Throws: `StoreError.malformedManifest` naming the field at fault.
    public init(json value: JSONValue) throws {
        func bad(_ why: String) -> StoreError { .malformedManifest(why) }
        guard case .object(let o) = value else { throw bad("manifest is not a JSON object") }
        let known: Set<String> = ["schema", "kind", "blob", "shape", "dtype", "backbone", "parents", "recipe", "metrics"]
        if let extra = o.keys.first(where: { !known.contains($0) }) { throw bad("unknown field '\(extra)'") }
        guard let schema = o["schema"]?.intValue else { throw bad("missing schema") }
        guard schema == Int64(Manifest.currentSchema) else {
            throw StoreError.unsupportedSchema(found: Int(schema), supported: Manifest.currentSchema)
        }
        guard let k = o["kind"]?.stringValue, let kind = ArtifactKind(rawValue: k) else { throw bad("missing or unknown kind") }
        self.kind = kind
        if let b = o["blob"] {
            guard let s = b.stringValue, let id = BlobID(s) else { throw bad("blob is not a sha256 hex id") }
            self.blob = id
        } else {
            self.blob = nil
        }
        if let s = o["shape"] {
            guard let dims = s.arrayValue?.compactMap({ $0.intValue }), dims.count == s.arrayValue?.count,
                  dims.allSatisfy({ $0 >= 0 }) else { throw bad("shape must be an array of non-negative integers") }
            guard Shape.isPlausible(dims) else {
                throw bad("shape is too large (at most \(Shape.maxRank) dimensions, each below 2^31, \(Shape.maxCount) elements)")
            }
            self.shape = Shape(dims.map { Int($0) })
        } else {
            self.shape = nil
        }
        if let d = o["dtype"] {
            guard let s = d.stringValue, let dt = DType(rawValue: s) else { throw bad("unknown dtype") }
            self.dtype = dt
        } else {
            self.dtype = nil
        }
        if let b = o["backbone"] {
            guard let model = b["model"]?.stringValue, let width = b["width"]?.intValue else {
                throw bad("backbone needs model and width")
            }
            guard width >= 0, width <= Int64(Int32.max) else { throw bad("backbone width must be between 0 and 2^31 - 1") }
            self.backbone = Backbone(model: model, width: Int(width), embedding: b["embedding"]?.stringValue)
        } else {
            self.backbone = nil
        }
        guard let ps = o["parents"]?.arrayValue else { throw bad("missing parents") }
        self.parents = try ps.map { p in
            guard let r = p["role"]?.stringValue, let role = ParentRole(rawValue: r),
                  let i = p["id"]?.stringValue, let id = ArtifactID(i) else { throw bad("parent needs a known role and a sha256 id") }
            return Parent(role, id)
        }
        guard let r = o["recipe"], let op = r["op"]?.stringValue else { throw bad("missing recipe.op") }
        self.recipe = Recipe(op: op, params: r["params"]?.objectValue ?? [:])
        self.metrics = o["metrics"]?.objectValue ?? [:]
        self.schema = Int(schema)
        try validate()
    }

    /// Checks internal consistency (blob and shape go together, numbers are finite).
    public func validate() throws {
        if (blob == nil) != (shape == nil) { throw StoreError.malformedManifest("blob and shape must both be present or both absent") }
        if (blob == nil) != (dtype == nil) { throw StoreError.malformedManifest("blob and dtype must both be present or both absent") }
        if let dtype, dtype != .f32 { throw StoreError.malformedManifest("stored tensors are F32, not \(dtype.rawValue)") }
        if recipe.op.isEmpty { throw StoreError.malformedManifest("recipe.op must not be empty") }
        if kind.isPromptShaped {
            guard blob != nil else { throw StoreError.malformedManifest("a \(kind.rawValue) needs a blob") }
            guard let shape, shape.rank == 2 else { throw StoreError.malformedManifest("a \(kind.rawValue) must be 2-D [rows, width]") }
            if let backbone, backbone.width != shape.width {
                throw StoreError.malformedManifest("shape \(shape) does not match backbone width \(backbone.width)")
            }
        }
        if !JSONValue.object(recipe.params).isFinite || !JSONValue.object(metrics).isFinite {
            throw StoreError.malformedManifest("recipe and metrics must hold finite numbers only")
        }
    }
}
