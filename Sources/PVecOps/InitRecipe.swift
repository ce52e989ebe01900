import PVecAlgebra
import PVecStore
import PVecTensor

/// The recipe of a seeded init: enough to regenerate the tensor bit for bit.
///
/// - `uniform`: rows × width scalars a·(2u − 1), u from SplitMix64(seed) row-major.
/// - `vocab-sample`: `rows` distinct rows of the backbone's word-embedding table drawn from
///   its first `firstK` rows (Lester et al. 2021), see `InitGenerator.vocabSample`.
public struct InitRecipe: Hashable, Sendable {
    public enum Method: String, Sendable, CaseIterable {
        case uniform
        case vocabSample = "vocab-sample"
    }

    public var method: Method
    public var rows: Int
    public var width: Int
    public var seed: UInt64
    /// Half-range of `uniform` (Lester et al. use 0.5).
    public var range: Double
    /// Rows of the vocabulary to sample from, for `vocab-sample`.
    public var firstK: Int

    public init(method: Method, rows: Int, width: Int, seed: UInt64, range: Double = 0.5, firstK: Int = 5000) {
        self.method = method
        self.rows = rows
        self.width = width
        self.seed = seed
        self.range = range
        self.firstK = firstK
    }

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

    public init(params p: [String: JSONValue]) throws {
        guard let m = p["method"]?.stringValue, let method = Method(rawValue: m),
              let rows = p["rows"]?.intValue, let width = p["width"]?.intValue,
              let seed = p["seed"]?.intValue else {
            throw OpsError.notRecomputable("init recipe needs method, rows, width and seed")
        }
        self.init(method: method, rows: Int(rows), width: Int(width), seed: UInt64(bitPattern: seed),
                  range: p["range"]?.doubleValue ?? 0.5, firstK: Int(p["first_k"]?.intValue ?? 5000))
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
