import PVecStore
import PVecTensor

/// What a prompt needs, besides its tensor, to be exported as the PEFT adapter it came from:
/// the adapter config, the element type it was saved in, and the module holding its other
/// tensors (a `SEQ_CLS` adapter's classifier head).
///
/// An import records these in its `import` recipe (`peft_config`, `dtype`) and links the head
/// as a `module` parent. A derived artifact (vector, add, sub, neg, scale, merge, SPoT init)
/// carries its parents' profile: the same recipe parameters beside the op's own, and the same
/// `module` parent. Nothing is added when no parent has a PEFT config, so artifacts made from
/// `.npy` and safetensors files keep the ids they always had. The typed-recipe contract
/// (`T(params: p).params == p`) holds for `stripped(recipe)`: these parameters sit beside the
/// op's own, and the op never reads them.
///
/// ```swift
/// let p = try AdapterProfile.combine(parents, override: nil, shape: [16, 768])
/// let recipe = p.applied(to: AddRecipe(lambda: 0.5).recipe)   // + peft_config, dtype
/// ```
public struct AdapterProfile: Sendable, Equatable {
    /// The adapter config to export with; nil when no parent came from PEFT.
    public var config: [String: JSONValue]?
    /// The element type to export in by default; nil means F32.
    public var dtype: DType?
    /// The module artifact holding the adapter's other tensors, by key.
    public var head: ArtifactID?

    /// A profile; all parts are optional.
    public init(config: [String: JSONValue]? = nil, dtype: DType? = nil, head: ArtifactID? = nil) {
        self.config = config
        self.dtype = dtype
        self.head = head
    }

    /// The recipe parameters a carried profile adds to a derived artifact's recipe.
    public static let recipeKeys: Set<String> = ["peft_config", "dtype"]

    /// The config fields two adapters must agree on to be combined: what PEFT reads to decide
    /// how the prompt is laid out and which model and head it goes with.
    public static let identityKeys = [
        "peft_type", "task_type", "num_transformer_submodules", "num_virtual_tokens", "token_dim",
        "base_model_name_or_path", "revision", "num_layers", "num_attention_heads", "modules_to_save",
    ]

    /// The profile an artifact records (empty for one that did not come from PEFT).
    public static func of(_ m: Manifest) -> AdapterProfile {
        var p = AdapterProfile()
        if m.recipe.op == ImportRecipe.op, let r = try? ImportRecipe(m.recipe) {
            p.config = r.peftConfig
            p.dtype = r.dtype
        } else if Derivation.recomputableOps.contains(m.recipe.op) || m.recipe.params["peft_config"]?.objectValue != nil {
            // Derivations, and the prompts training runs store (TrainingSession.store).
            p.config = m.recipe.params["peft_config"]?.objectValue
            p.dtype = m.recipe.params["dtype"]?.stringValue.flatMap(DType.init(rawValue:))
        }
        // Only an adapter's prompt has a head: a trained prompt's `module` parent (an AMP
        // target's DAM module) is something else.
        if m.kind.isPromptShaped, p.config != nil {
            p.head = m.parents.first { $0.role == .module }?.id
        }
        return p
    }

    /// The profile a result of these parents carries.
    ///
    /// Parents with a PEFT config must agree on `identityKeys`; the first one's config is
    /// carried (its other fields, such as `prompt_tuning_init`, do not change how PEFT loads the
    /// prompt). The element type is carried when those parents agree on it, else the result
    /// exports as F32. The head is carried from the parents other than the `init` (an init's
    /// head is untrained): one head, or none, or a refusal when they hold different ones.
    ///
    /// - Parameters:
    ///   - override: a config given with `--peft-config`: carried instead, with no head
    ///     unless the parents agree on one; checked against `shape`.
    ///   - shape: the result's shape.
    /// - Throws: `OpsError.peftMismatch` naming the two parents and the field; `StoreError`
    ///   when `override` does not fit `shape`.
    public static func combine(_ parents: [(role: ParentRole, operand: Operand)],
                               override: [String: JSONValue]?, shape: Shape?) throws -> AdapterProfile {
        let profiles = parents.map { (role: $0.role, spec: $0.operand.spec, profile: of($0.operand.manifest)) }
        let adapters = profiles.filter { $0.profile.config != nil }
        if adapters.isEmpty && override == nil { return AdapterProfile() }
        var result = AdapterProfile()
        if let override {
            if let shape, shape.rank == 2 {
                try PEFTAdapter.checkFits(override, rows: shape.rows, width: shape.width, what: "--peft-config")
            }
            result.config = override
        } else if let first = adapters.first, let config = first.profile.config {
            for other in adapters.dropFirst() {
                guard let c = other.profile.config else { continue }
                for key in identityKeys where (config[key] ?? .null) != (c[key] ?? .null) {
                    throw OpsError.peftMismatch(first.spec, other.spec,
                                                field: "\(key) \(shown(config[key])) vs \(shown(c[key]))")
                }
            }
            result.config = config
        }
        let dtypes = Set(adapters.map { $0.profile.dtype ?? .f32 })
        if dtypes.count == 1, let d = dtypes.first, d != .f32 { result.dtype = d }
        let heads = profiles.filter { $0.role != .`init` && $0.profile.head != nil }
        if let first = heads.first, let head = first.profile.head {
            if let other = heads.first(where: { $0.profile.head != head }) {
                if override == nil {
                    throw OpsError.peftMismatch(first.spec, other.spec, field: "the tensors besides prompt_embeddings (modules_to_save, e.g. a classifier head)")
                }
            } else {
                result.head = head
            }
        }
        return result
    }

    /// `recipe` with this profile's parameters added (none when there is no config).
    public func applied(to recipe: Recipe) -> Recipe {
        guard let config else { return recipe }
        var r = recipe
        r.params["peft_config"] = .object(config)
        if let dtype, dtype != .f32 { r.params["dtype"] = .string(dtype.rawValue) }
        return r
    }

    /// The parents a carried profile adds: the head module, when there is one.
    public var parents: [Parent] { head.map { [Parent(.module, $0)] } ?? [] }

    /// `recipe` without the parameters a profile adds: what the op itself reads.
    public static func stripped(_ recipe: Recipe) -> Recipe {
        var r = recipe
        for k in recipeKeys { r.params.removeValue(forKey: k) }
        return r
    }

    private static func shown(_ v: JSONValue?) -> String {
        guard let v else { return "(absent)" }
        return TerminalText.clipped(v.canonicalString, limit: 60)
    }
}

extension Backbone {
    /// The model id recorded when an import names no backbone; a PEFT export writes
    /// `base_model_name_or_path: null` for it.
    public static let unknownModel = "unknown"
}
