import PVecAlgebra
import PVecStore
import PVecTensor

/// The recipe of a merge (recipe op `merge`, parameter `method`): enough, with the ordered
/// `operand` parents, to recompute the result bit for bit with `PVecAlgebra.Merge`.
///
/// Parameters are recorded as the user gave them (JSON numbers, i.e. Double) and turned into
/// Float in one place, `apply`, which both creation and `pvec verify` run.
///
/// | method            | params                                   | paper                        |
/// |-------------------|------------------------------------------|------------------------------|
/// | `linear`          | weights                                  | Wortsman et al. 2022 (soups) |
/// | `task-arithmetic` | weights, lambda                          | Ilharco et al. 2023          |
/// | `ties`            | density, lambda                          | Yadav et al. 2023            |
/// | `dare`            | drop, seed, lambda, ties, prng           | Yu et al. 2023               |
/// | `slerp`           | t                                        | Shoemake 1985                |
/// | `magnitude-prune` | density                                  | TIES trim step               |
/// | `iso-c`           | lambda                                   | Marczak et al. 2025          |
/// | `tsv`             | lambda                                   | Gargiulo et al. 2025 (TSV-M) |
/// | `model-stock`     | (none)                                   | Jang et al. 2024             |
///
/// `iso-c` and `tsv` take singular value decompositions from LAPACK (OpenBLAS): their bits
/// are reproducible on one machine, not guaranteed across CPUs or OpenBLAS versions (the
/// others are identical everywhere). See docs/merges.md.
///
/// ```swift
/// let r = MergeRecipe.ties(density: 0.2, lambda: 1)
/// let merged = try r.apply([tauA, tauB, tauC])
/// ```
public enum MergeRecipe: TypedRecipe {
    /// The op name recorded in manifests: `merge`, for every method.
    public static let op = "merge"

    /// Σ w_i x_i / Σ w_i, one weight per operand.
    case linear(weights: [Double])
    /// λ Σ w_i tau_i, one weight per operand.
    case taskArithmetic(weights: [Double], lambda: Double)
    /// Trim to `density`, elect sign, disjoint mean, scale by λ.
    case ties(density: Double, lambda: Double)
    /// Drop with probability `drop` (SplitMix64 from `seed`), rescale, then task arithmetic
    /// or, with `ties`, TIES's sign election and disjoint mean; scale by λ.
    case dare(drop: Double, seed: UInt64, lambda: Double, ties: Bool)
    /// Spherical interpolation of two operands; t = 0 gives the first.
    case slerp(t: Double)
    /// Keep the `density` fraction of largest magnitudes of one operand.
    case magnitudePrune(density: Double)
    /// λ · σ̄ U Vᵀ of the summed task vectors (their singular values flattened to the mean).
    case isoC(lambda: Double)
    /// Each task's top ⌊r/T⌋ singular directions, orthogonalised across tasks, scaled by λ.
    case tsv(lambda: Double)
    /// t · mean(tau_i), t = N cos θ / (1 + (N − 1) cos θ) from the runs' mean pairwise cosine.
    case modelStock

    /// The method names, as recorded and as typed on the command line.
    public static let methodNames = MergeMethod.allCases.map(\.rawValue)

    /// The recorded method name.
    public var method: String {
        switch self {
        case .linear: return "linear"
        case .taskArithmetic: return "task-arithmetic"
        case .ties: return "ties"
        case .dare: return "dare"
        case .slerp: return "slerp"
        case .magnitudePrune: return "magnitude-prune"
        case .isoC: return "iso-c"
        case .tsv: return "tsv"
        case .modelStock: return "model-stock"
        }
    }

    /// The parameters as recorded: `method` and that method's parameters (see the type's
    /// table); `dare` also records `prng: "splitmix64"`.
    public var params: [String: JSONValue] {
        var p: [String: JSONValue] = ["method": .string(method)]
        switch self {
        case .linear(let w):
            p["weights"] = .array(w.map { .double($0) })
        case .taskArithmetic(let w, let lambda):
            p["weights"] = .array(w.map { .double($0) })
            p["lambda"] = .double(lambda)
        case .ties(let density, let lambda):
            p["density"] = .double(density)
            p["lambda"] = .double(lambda)
        case .dare(let drop, let seed, let lambda, let ties):
            p["drop"] = .double(drop)
            p["seed"] = .int(Int64(bitPattern: seed))
            p["prng"] = "splitmix64"
            p["lambda"] = .double(lambda)
            p["ties"] = .bool(ties)
        case .slerp(let t):
            p["t"] = .double(t)
        case .magnitudePrune(let density):
            p["density"] = .double(density)
        case .isoC(let lambda), .tsv(let lambda):
            p["lambda"] = .double(lambda)
        case .modelStock:
            break
        }
        return p
    }

    /// Reads a recorded `merge` recipe.
    ///
    /// - Throws: `StoreError.malformedRecipe` naming the missing or malformed parameter.
    public init(params p: [String: JSONValue]) throws {
        let op = Self.op
        func number(_ key: String) throws -> Double { try RecipeField.double(p, key, op: op) }
        func weights() throws -> [Double] { try RecipeField.doubles(p, "weights", op: op) }
        let method = try RecipeField.string(p, "method", op: op)
        switch method {
        case "linear":
            self = .linear(weights: try weights())
        case "task-arithmetic":
            self = .taskArithmetic(weights: try weights(), lambda: try number("lambda"))
        case "ties":
            self = .ties(density: try number("density"), lambda: try number("lambda"))
        case "dare":
            let seed = try RecipeField.int(p, "seed", op: op)
            try RecipeField.checkSplitMix64(p, op: op)
            self = .dare(drop: try number("drop"), seed: UInt64(bitPattern: seed), lambda: try number("lambda"),
                         ties: try RecipeField.optional(p, "ties", op: op, RecipeField.bool) ?? false)
        case "slerp":
            self = .slerp(t: try number("t"))
        case "magnitude-prune":
            self = .magnitudePrune(density: try number("density"))
        case "iso-c":
            self = .isoC(lambda: try number("lambda"))
        case "tsv":
            self = .tsv(lambda: try number("lambda"))
        case "model-stock":
            self = .modelStock
        default:
            throw StoreError.malformedRecipe(op: op, reason: "parameter 'method' is \(TerminalText.quoted(method)), not one of \(Self.methodNames.joined(separator: ", "))")
        }
    }

    /// Checks the parameters against `count` operands without touching any tensor, so a
    /// command can refuse before it stores anything.
    ///
    /// - Throws: `AlgebraError.tooFewOperands` or `.invalidParameter` naming the fix.
    public func check(operandCount count: Int) throws {
        let op = "merge \(method)"
        func finite(_ v: Double, _ name: String) throws {
            guard v.isFinite, Float(v).isFinite else {
                throw AlgebraError.invalidParameter(operation: op, name: name, value: "\(v)", expected: "a finite number")
            }
        }
        func fraction(_ v: Double, _ name: String, upperOpen: Bool) throws {
            guard v >= 0, upperOpen ? Float(v) < 1 : v <= 1 else {
                throw AlgebraError.invalidParameter(operation: op, name: name, value: "\(v)",
                                                    expected: upperOpen ? "a probability in [0, 1)" : "a fraction in [0, 1]")
            }
        }
        func weightsFit(_ w: [Double]) throws {
            guard w.count == count else {
                throw AlgebraError.invalidParameter(operation: op, name: "weights", value: "\(w.count) values",
                                                    expected: "one weight per operand (\(count))")
            }
            for x in w { try finite(x, "weights") }
        }
        switch self {
        case .slerp:
            guard count == 2 else { throw AlgebraError.invalidParameter(operation: op, name: "operands", value: "\(count)", expected: "exactly 2") }
        case .magnitudePrune:
            guard count == 1 else { throw AlgebraError.invalidParameter(operation: op, name: "operands", value: "\(count)", expected: "exactly 1") }
        case .isoC, .tsv, .modelStock:
            guard count >= 2 else { throw AlgebraError.tooFewOperands(operation: op, minimum: 2, found: count) }
        default:
            guard count >= 1 else { throw AlgebraError.tooFewOperands(operation: op, minimum: 1, found: count) }
        }
        switch self {
        case .linear(let w):
            try weightsFit(w)
            // The same sum, in the same order and precision, as Merge.linear divides by.
            var total: Float = 0
            for x in w { total = total + Float(x) }
            guard total != 0, total.isFinite else {
                throw AlgebraError.invalidParameter(operation: op, name: "weights", value: "sum \(total)",
                                                    expected: "weights with a non-zero sum")
            }
        case .taskArithmetic(let w, let lambda):
            try weightsFit(w)
            try finite(lambda, "lambda")
        case .ties(let density, let lambda):
            try fraction(density, "density", upperOpen: false)
            try finite(lambda, "lambda")
        case .dare(let drop, _, let lambda, _):
            try fraction(drop, "drop", upperOpen: true)
            try finite(lambda, "lambda")
        case .slerp(let t):
            try finite(t, "t")
        case .magnitudePrune(let density):
            try fraction(density, "density", upperOpen: false)
        case .isoC(let lambda), .tsv(let lambda):
            try finite(lambda, "lambda")
        case .modelStock:
            break
        }
    }

    /// Computes the merge of `operands` (in manifest order) with `PVecAlgebra.Merge`.
    ///
    /// - Throws: `AlgebraError` for parameters or operands the method is not defined on.
    public func apply(_ operands: [Tensor]) throws -> Tensor {
        try check(operandCount: operands.count)
        switch self {
        case .linear(let w):
            return try Merge.linear(operands, weights: w.map { Float($0) })
        case .taskArithmetic(let w, let lambda):
            return try Merge.taskArithmetic(operands, weights: w.map { Float($0) }, lambda: Float(lambda))
        case .ties(let density, let lambda):
            return try Merge.ties(operands, density: Float(density), lambda: Float(lambda))
        case .dare(let drop, let seed, let lambda, let ties):
            return try Merge.dare(operands, dropRate: Float(drop), seed: seed, lambda: Float(lambda), ties: ties)
        case .slerp(let t):
            return try Merge.slerp(operands[0], operands[1], t: Float(t))
        case .magnitudePrune(let density):
            return try Merge.magnitudePrune(operands[0], density: Float(density))
        case .isoC(let lambda):
            return try Merge.isoC(operands, lambda: Float(lambda))
        case .tsv(let lambda):
            return try Merge.tsv(operands, lambda: Float(lambda))
        case .modelStock:
            return try Merge.modelStock(operands)
        }
    }
}
