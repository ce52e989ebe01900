import PVecStore

/// The recipe of a sum of task vectors (op `add`): λ·(((τ₁+τ₂)+τ₃)…) from the `operand`
/// parents, plus the `init` parent when there is one (Belanec et al. 2024, eq. 6).
public struct AddRecipe: TypedRecipe {
    public static let op = "add"

    /// Scale of the sum.
    public var lambda: Double

    public init(lambda: Double) {
        self.lambda = lambda
    }

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
    public static let op = "sub"

    public init() {}

    public var params: [String: JSONValue] { [:] }

    /// Reads a recorded `sub` recipe; it has no parameters to read.
    public init(params: [String: JSONValue]) throws {}
}

/// The recipe of a negated task vector (op `neg`, no parameters): −τ of the one `operand` parent.
public struct NegRecipe: TypedRecipe {
    public static let op = "neg"

    public init() {}

    public var params: [String: JSONValue] { [:] }

    /// Reads a recorded `neg` recipe; it has no parameters to read.
    public init(params: [String: JSONValue]) throws {}
}

/// The recipe of a scaled task vector (op `scale`): s·τ of the one `operand` parent.
public struct ScaleRecipe: TypedRecipe {
    public static let op = "scale"

    /// The factor s.
    public var by: Double

    public init(by: Double) {
        self.by = by
    }

    public var params: [String: JSONValue] { ["by": .double(by)] }

    /// Reads a recorded `scale` recipe.
    ///
    /// - Throws: `StoreError.malformedRecipe` naming `by` when it is missing or not a number.
    public init(params p: [String: JSONValue]) throws {
        self.init(by: try RecipeField.double(p, "by", op: Self.op))
    }
}
