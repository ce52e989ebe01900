import PVecStore

/// The recipe of a sum of task vectors (op `add`): λ·(((τ₁+τ₂)+τ₃)…) from the `operand`
/// parents, plus the `init` parent when there is one (Belanec et al. 2024, eq. 6).
public struct AddRecipe: TypedRecipe {
    /// The op name recorded in manifests: `add`.
    public static let op = "add"

    /// Scale of the sum.
    public var lambda: Double

    /// A sum of task vectors scaled by `lambda` (1 keeps the plain sum).
    public init(lambda: Double) {
        self.lambda = lambda
    }

    /// The parameters as recorded: `{"lambda": λ}`.
    public var params: [String: JSONValue] { ["lambda": .double(lambda)] }

    /// Reads a recorded `add` recipe.
    ///
    /// - Throws: `StoreError.malformedRecipe` naming `lambda` when it is missing or not a number.
    public init(params p: [String: JSONValue]) throws {
        self.init(lambda: try RecipeField.double(p, "lambda", op: Self.op))
    }
}

/// The recipe of a difference of two task vectors (op `sub`, no parameters): τ₁ − τ₂, from the
/// two `operand` parents in order.
public struct SubRecipe: TypedRecipe {
    /// The op name recorded in manifests: `sub`.
    public static let op = "sub"

    /// The difference recipe; it has no parameters.
    public init() {}

    /// None: the order of the two `operand` parents says which one is subtracted.
    public var params: [String: JSONValue] { [:] }

    /// Reads a recorded `sub` recipe; it has no parameters to read.
    public init(params: [String: JSONValue]) throws {}
}

/// The recipe of a negated task vector (op `neg`, no parameters): −τ of the one `operand` parent.
public struct NegRecipe: TypedRecipe {
    /// The op name recorded in manifests: `neg`.
    public static let op = "neg"

    /// The negation recipe; it has no parameters.
    public init() {}

    /// None: the recipe is recorded with empty parameters.
    public var params: [String: JSONValue] { [:] }

    /// Reads a recorded `neg` recipe; it has no parameters to read.
    public init(params: [String: JSONValue]) throws {}
}

/// The recipe of a scaled task vector (op `scale`): s·τ of the one `operand` parent.
public struct ScaleRecipe: TypedRecipe {
    /// The op name recorded in manifests: `scale`.
    public static let op = "scale"

    /// The factor s.
    public var by: Double

    /// A recipe that multiplies the one operand by `by`.
    public init(by: Double) {
        self.by = by
    }

    /// The parameters as recorded: `{"by": s}`.
    public var params: [String: JSONValue] { ["by": .double(by)] }

    /// Reads a recorded `scale` recipe.
    ///
    /// - Throws: `StoreError.malformedRecipe` naming `by` when it is missing or not a number.
    public init(params p: [String: JSONValue]) throws {
        self.init(by: try RecipeField.double(p, "by", op: Self.op))
    }
}
