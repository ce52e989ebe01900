import PVecStore
import PVecTensor

/// The recipe of an imported tensor (op `import`): not how to recompute it, but where its bytes
/// came from, so `verify` checks it by hash and `export` can write a PEFT adapter back.
public struct ImportRecipe: TypedRecipe {
    /// The op name recorded in manifests: `import`.
    public static let op = "import"

    /// The file format read.
    public var format: TensorFileFormat
    /// SHA-256 of the file (safetensors, npy) or of the adapter weights file (PEFT), hex.
    public var sha256: String
    /// The tensor taken from the file, when the format names its tensors.
    public var key: String?
    /// The adapter config of a PEFT directory.
    public var peftConfig: [String: JSONValue]?
    /// NaN or Inf was kept on purpose (`--allow-nonfinite`); recorded only when true.
    public var nonfinite: Bool
    /// The element type a PEFT adapter's prompt was saved in, when not F32 (an export writes it
    /// back in that type); recorded only then, and only for adapters, so other imports keep
    /// the ids they always had.
    public var dtype: DType?
    /// For the module holding a PEFT adapter's other tensors (a classifier head): each
    /// tensor's key and the element type it was saved in.
    public var dtypes: [String: DType]?

    /// An import record, as `importTensor` makes it from a `LoadedTensor`.
    ///
    /// - Parameters:
    ///   - format: the file format read.
    ///   - sha256: hex SHA-256 of the file, or of a PEFT adapter's weights file.
    ///   - key: the tensor taken from the file; nil for npy.
    ///   - peftConfig: the adapter config, for PEFT imports only.
    ///   - nonfinite: true only when NaN or Inf was kept on purpose.
    public init(format: TensorFileFormat, sha256: String, key: String? = nil,
                peftConfig: [String: JSONValue]? = nil, nonfinite: Bool = false,
                dtype: DType? = nil, dtypes: [String: DType]? = nil) {
        self.format = format
        self.sha256 = sha256
        self.key = key
        self.peftConfig = peftConfig
        self.nonfinite = nonfinite
        self.dtype = dtype == .f32 ? nil : dtype
        self.dtypes = dtypes
    }

    /// The parameters as recorded: `format` and `sha256`, plus `key` and `peft_config` when
    /// set and `nonfinite` only when true. Absent values are left out rather than written as
    /// null, because the recipe's canonical JSON is part of what the artifact id hashes.
    public var params: [String: JSONValue] {
        var p: [String: JSONValue] = ["format": .string(format.rawValue), "sha256": .string(sha256)]
        if let key { p["key"] = .string(key) }
        if let peftConfig { p["peft_config"] = .object(peftConfig) }
        if nonfinite { p["nonfinite"] = true }
        if let dtype { p["dtype"] = .string(dtype.rawValue) }
        if let dtypes { p["dtypes"] = .object(dtypes.mapValues { .string($0.rawValue) }) }
        return p
    }

    /// Reads a recorded `import` recipe.
    ///
    /// - Throws: `StoreError.malformedRecipe` naming the parameter: `format` missing or not one
    ///   of safetensors, npy, peft; `sha256` missing; `key`, `peft_config` or `nonfinite` of the
    ///   wrong kind (`nonfinite` is recorded only as true).
    public init(params p: [String: JSONValue]) throws {
        let name = try RecipeField.string(p, "format", op: Self.op)
        guard let format = TensorFileFormat(rawValue: name) else {
            throw StoreError.malformedRecipe(op: Self.op, reason: "parameter 'format' is \(TerminalText.quoted(name)), not safetensors, npy or peft")
        }
        let key = try RecipeField.optional(p, "key", op: Self.op, RecipeField.string)
        let config = try RecipeField.optional(p, "peft_config", op: Self.op, RecipeField.object)
        if let n = p["nonfinite"], n != .bool(true) {
            throw StoreError.malformedRecipe(op: Self.op, reason: "parameter 'nonfinite' is recorded only as true")
        }
        func dtype(_ v: JSONValue, _ name: String) throws -> DType {
            guard let s = v.stringValue, let d = DType(rawValue: s), d.isFloat else {
                throw StoreError.malformedRecipe(op: Self.op, reason: "parameter '\(name)' is not a floating-point dtype")
            }
            return d
        }
        let saved = try p["dtype"].map { try dtype($0, "dtype") }
        if saved == .f32 {
            throw StoreError.malformedRecipe(op: Self.op, reason: "parameter 'dtype' is recorded only when not F32")
        }
        let types = try RecipeField.optional(p, "dtypes", op: Self.op, RecipeField.object)?
            .mapValues { try dtype($0, "dtypes") }
        self.init(format: format, sha256: try RecipeField.string(p, "sha256", op: Self.op), key: key,
                  peftConfig: config, nonfinite: p["nonfinite"] != nil, dtype: saved, dtypes: types)
    }
}
