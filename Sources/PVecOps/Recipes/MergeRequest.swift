import PVecAlgebra
import PVecStore

/// The merge methods, as recorded in `merge` recipes and typed on the command line.
public enum MergeMethod: String, CaseIterable, Sendable {
    case linear
    case taskArithmetic = "task-arithmetic"
    case ties, dare, slerp
    case magnitudePrune = "magnitude-prune"
    case isoC = "iso-c"
    case tsv
    case modelStock = "model-stock"

    /// The options a method takes, by their command-line names.
    public var options: Set<MergeRequest.Option> {
        switch self {
        case .linear: return [.weights]
        case .taskArithmetic: return [.weights, .lambda]
        case .ties: return [.density, .lambda]
        case .dare: return [.drop, .seed, .ties, .lambda]
        case .slerp: return [.t, .raw]
        case .magnitudePrune: return [.density]
        case .isoC, .tsv: return [.lambda]
        case .modelStock: return []
        }
    }
}

/// A merge as a user asks for it: the method, the options given (nil when left out) and the
/// number of operands. `recipe()` applies the defaults and every rule, so the CLI and any
/// other caller refuse the same requests with the same messages, before anything is stored.
///
/// ```swift
/// var r = MergeRequest(method: .ties, operandCount: 3)
/// r.density = 0.2
/// let recipe = try r.recipe()        // .ties(density: 0.2, lambda: 1)
/// ```
public struct MergeRequest: Sendable {
    /// An option of `pvec merge`, named as on the command line.
    public enum Option: String, CaseIterable, Sendable {
        case weights, lambda, density, drop, seed, ties, t, raw
    }

    /// The merge method.
    public var method: MergeMethod
    /// How many operands the merge gets, in order.
    public var operandCount: Int
    /// One weight per operand (linear, task-arithmetic); default all 1.
    public var weights: [Double]?
    /// Scale of the result (task-arithmetic, ties, dare, iso-c, tsv: the papers' α); default 1.
    public var lambda: Double?
    /// Fraction of entries kept, in [0, 1] (ties, magnitude-prune); required.
    public var density: Double?
    /// Drop probability, in [0, 1) (dare); required.
    public var drop: Double?
    /// Seed of the drop mask (dare), below 2^53; default 0.
    public var seed: UInt64?
    /// TIES sign election after the drop (dare).
    public var ties = false
    /// Interpolation parameter (slerp); required.
    public var t: Double?
    /// Interpolate stored tensors instead of task vectors (slerp).
    public var raw = false

    /// A request with no options given (every default applies).
    public init(method: MergeMethod, operandCount: Int) {
        self.method = method
        self.operandCount = operandCount
    }

    /// The options given that the method does not take.
    public var misplacedOptions: [Option] {
        let given: [Option: Bool] = [.weights: weights != nil, .lambda: lambda != nil, .density: density != nil,
                                     .drop: drop != nil, .seed: seed != nil, .ties: ties, .t: t != nil, .raw: raw]
        return Option.allCases.filter { given[$0] == true && !method.options.contains($0) }
    }

    /// The recipe, with defaults applied, after every check.
    ///
    /// - Throws: `OpsError.invalidRequest` for an option the method does not take or a
    ///   required one left out, `StoreError.malformedRecipe` for a seed above 2^53, and
    ///   `AlgebraError` from `MergeRecipe.check` for values out of range or the wrong number
    ///   of operands.
    public func recipe() throws -> MergeRecipe {
        if let o = misplacedOptions.first {
            let takers = MergeMethod.allCases.filter { $0.options.contains(o) }.map(\.rawValue)
            throw OpsError.invalidRequest("--\(o.rawValue) applies to \(takers.joined(separator: " and ")), not \(method.rawValue); drop it")
        }
        func required(_ v: Double?, _ o: Option, _ what: String) throws -> Double {
            guard let v else { throw OpsError.invalidRequest("merge \(method.rawValue) needs --\(o.rawValue) \(what)") }
            return v
        }
        let w = weights ?? [Double](repeating: 1, count: operandCount)
        let r: MergeRecipe
        switch method {
        case .linear: r = .linear(weights: w)
        case .taskArithmetic: r = .taskArithmetic(weights: w, lambda: lambda ?? 1)
        case .ties: r = .ties(density: try required(density, .density, "D, the fraction of entries kept (e.g. 0.2)"), lambda: lambda ?? 1)
        case .dare:
            if let seed { try RecipeSeed.check(seed, op: "merge dare") }
            r = .dare(drop: try required(drop, .drop, "P, the drop probability (e.g. 0.9)"), seed: seed ?? 0, lambda: lambda ?? 1, ties: ties)
        case .slerp: r = .slerp(t: try required(t, .t, "T, where 0 gives the first operand and 1 the second"))
        case .magnitudePrune: r = .magnitudePrune(density: try required(density, .density, "D, the fraction of entries kept (e.g. 0.2)"))
        case .isoC: r = .isoC(lambda: lambda ?? 1)
        case .tsv: r = .tsv(lambda: lambda ?? 1)
        case .modelStock: r = .modelStock
        }
        if method != .slerp && method != .magnitudePrune && operandCount < 2 {
            throw OpsError.invalidRequest("merge \(method.rawValue) needs at least two operands, \(operandCount) given; name more artifacts")
        }
        try r.check(operandCount: operandCount)
        return r
    }
}
