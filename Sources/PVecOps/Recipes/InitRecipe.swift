import PVecAlgebra
import PVecStore
import PVecTensor

/// The recipe of a seeded init (op `init`): enough to regenerate the tensor bit for bit.
///
/// - `uniform`: rows × width scalars a·(2u − 1), u from SplitMix64(seed) row-major.
/// - `vocab-sample`: `rows` distinct rows of the backbone's word-embedding table drawn from
///   its first `firstK` rows (Lester et al. 2021), see `InitGenerator.vocabSample`.
///
/// Recorded as `{method, rows, width, seed, prng: "splitmix64"}` plus `range` (uniform) or
/// `first_k` (vocab-sample).
public struct InitRecipe: TypedRecipe {
    /// The op name recorded in manifests: `init`.
    public static let op = "init"

    /// Most scalars a recorded init may ask for: as many as the largest blob pvec stores
    /// (1 GiB of F32), so reading a recipe never plans an allocation no artifact could hold.
    public static let maxScalars = 1 << 28

    /// How the tensor is generated; the raw value is the recorded `method`.
    public enum Method: String, Sendable, CaseIterable {
        /// Scalars a·(2u − 1), u uniform in [0, 1) from SplitMix64(seed), a = `range`.
        case uniform
        /// Distinct rows of the backbone's word-embedding table, drawn from its first `firstK`.
        case vocabSample = "vocab-sample"
    }

    /// Which generator makes the tensor.
    public var method: Method
    /// Rows of the tensor: the number of soft-prompt tokens.
    public var rows: Int
    /// Scalars per row (the backbone's embedding width).
    public var width: Int
    /// Seed of the SplitMix64 stream; recorded as the Int64 with the same bits.
    public var seed: UInt64
    /// Half-range of `uniform` (Lester et al. use 0.5).
    public var range: Double
    /// Rows of the vocabulary to sample from, for `vocab-sample`.
    public var firstK: Int

    /// A seeded init recipe; the defaults are the values Lester et al. (2021) use.
    ///
    /// Nothing is checked here: `init(params:)` bounds recorded values, while `generate` traps on
    /// negative sizes or a non-finite `range` for `uniform` (a precondition) and throws
    /// `AlgebraError.invalidParameter` for a `vocab-sample` whose `rows` or `firstK` do not fit
    /// the table.
    ///
    /// ```swift
    /// let r = InitRecipe(method: .uniform, rows: 20, width: 768, seed: 42)
    /// let t = try r.generate(backbone: nil, embeddingTable: nil)
    /// ```
    ///
    /// - Parameters:
    ///   - range: the half-range a of `uniform`; not recorded for `vocab-sample`.
    ///   - firstK: the vocabulary rows `vocab-sample` draws from; not recorded for `uniform`.
    public init(method: Method, rows: Int, width: Int, seed: UInt64, range: Double = 0.5, firstK: Int = 5000) {
        self.method = method
        self.rows = rows
        self.width = width
        self.seed = seed
        self.range = range
        self.firstK = firstK
    }

    /// The parameters as recorded: `method`, `rows`, `width`, `seed`, `prng: "splitmix64"`,
    /// and `range` (uniform) or `first_k` (vocab-sample), never both.
    public var params: [String: JSONValue] {
        var p: [String: JSONValue] = [
            "method": .string(method.rawValue),
            "rows": .int(Int64(rows)),
            "width": .int(Int64(width)),
            "seed": .int(Int64(bitPattern: seed)),
            "prng": "splitmix64",
        ]
        switch method {
        case .uniform: p["range"] = .double(range)
        case .vocabSample: p["first_k"] = .int(Int64(firstK))
        }
        return p
    }

    /// Reads a recorded `init` recipe. `range` and `first_k` default to 0.5 and 5000 when absent.
    ///
    /// - Throws: `StoreError.malformedRecipe` naming the parameter: `method` not uniform or
    ///   vocab-sample, `rows` or `width` below 1 or above `maxScalars` together, `seed` not an
    ///   integer, `prng` not splitmix64, `range` not a finite number.
    public init(params p: [String: JSONValue]) throws {
        let op = Self.op
        let name = try RecipeField.string(p, "method", op: op)
        guard let method = Method(rawValue: name) else {
            throw StoreError.malformedRecipe(op: op, reason: "parameter 'method' is \(TerminalText.quoted(name)), not uniform or vocab-sample")
        }
        let rows = try RecipeField.int(p, "rows", op: op), width = try RecipeField.int(p, "width", op: op)
        for (key, v) in [("rows", rows), ("width", width)] where v < 1 || v > Int64(Self.maxScalars) {
            throw StoreError.malformedRecipe(op: op, reason: "parameter '\(key)' is \(v), not between 1 and \(Self.maxScalars)")
        }
        guard rows * width <= Int64(Self.maxScalars) else {
            throw StoreError.malformedRecipe(op: op, reason: "parameters 'rows' × 'width' ask for \(rows * width) scalars, more than \(Self.maxScalars)")
        }
        let seed = try RecipeField.int(p, "seed", op: op)
        try RecipeField.checkSplitMix64(p, op: op)
        let range = try RecipeField.optional(p, "range", op: op, RecipeField.double) ?? 0.5
        guard range.isFinite, Float(range).isFinite else {
            throw StoreError.malformedRecipe(op: op, reason: "parameter 'range' is \(range), not a finite number")
        }
        let firstK = try RecipeField.optional(p, "first_k", op: op, RecipeField.int) ?? 5000
        self.init(method: method, rows: Int(rows), width: Int(width), seed: UInt64(bitPattern: seed),
                  range: range, firstK: Int(clamping: firstK))
    }

    /// Generates the tensor.
    ///
    /// - Throws: `OpsError.notRecomputable` when `vocab-sample` has no embedding table at hand.
    public func generate(backbone: Backbone?, embeddingTable: ((Backbone) throws -> Tensor)?) throws -> Tensor {
        switch method {
        case .uniform:
            return InitGenerator.uniform(rows: rows, width: width, range: Float(range), seed: seed)
        case .vocabSample:
            guard let backbone, let load = embeddingTable else {
                throw OpsError.notRecomputable("a vocab-sample init needs its backbone's embedding table (pass --model DIR)")
            }
            let table = try load(backbone)
            return try InitGenerator.vocabSample(rows: rows, embeddingTable: table, firstK: firstK, seed: seed)
        }
    }
}
