import PVecTensor

/// Task prompt vectors and their arithmetic (Belanec et al. 2024, "Task Prompt Vectors:
/// Effective Initialization through Multi-Task Soft-Prompt Transfer").
///
/// A task prompt vector is `tau = P_tuned - P_init`, the elementwise difference between a
/// tuned soft prompt and the random init it was tuned from. Sums of vectors combine tasks;
/// adding a sum back onto an init gives a new prompt (their eq. 6).
///
/// Every result is computed elementwise with one rounding per operation in a fixed order, so
/// it is bit-identical on every machine.
///
/// ```swift
/// let tau = try TaskVector.difference(tuned: mnliPrompt, init: mnliInit)
/// let p = try TaskVector.onto(init: newInit, taus: [tauMNLI, tauQNLI], lambda: 0.5)
/// ```
public enum TaskVector {
    /// tau = tuned − init (Belanec et al. 2024, §3).
    ///
    /// - Throws: `AlgebraError.shapeMismatch` when the shapes differ.
    public static func difference(tuned: Tensor, init initial: Tensor) throws -> Tensor {
        _ = try commonShape([tuned, initial], "vector")
        return try tuned.subtracting(initial)
    }

    /// a − b, the difference of two task vectors (task "subtraction", Belanec et al. 2024).
    ///
    /// - Throws: `AlgebraError.shapeMismatch` when the shapes differ.
    public static func subtract(_ a: Tensor, _ b: Tensor) throws -> Tensor {
        _ = try commonShape([a, b], "sub")
        return try a.subtracting(b)
    }

    /// λ · Σ tau_i (Belanec et al. 2024, eq. 6 without the init).
    ///
    /// Order, for bit-exact reproduction: s = ((tau₁ + tau₂) + tau₃) + … elementwise, then
    /// λ · s elementwise. With λ = 1 the result is the plain sum.
    ///
    /// - Throws: `AlgebraError.tooFewOperands` for no operands, `.shapeMismatch`, or
    ///   `.invalidParameter` for a non-finite λ.
    public static func sum(_ taus: [Tensor], lambda: Float = 1) throws -> Tensor {
        let shape = try commonShape(taus, "add")
        try requireFiniteParameter(lambda, "lambda", "add")
        var acc = taus[0].scalars
        for i in 1..<taus.count { accumulate(&acc, taus[i], weight: 1) }
        scaleInPlace(&acc, by: lambda)
        return Tensor(shape: shape, scalars: acc)
    }

    /// s · tau, elementwise (Belanec et al. 2024 scale task vectors by λ).
    public static func scale(_ tau: Tensor, by s: Float) -> Tensor {
        tau.scaled(by: s)
    }

    /// −tau: the vector that "forgets" a task (negation, Ilharco et al. 2023; Belanec et al. 2024).
    public static func negate(_ tau: Tensor) -> Tensor {
        tau.negated()
    }

    /// init + λ · Σ tau_i: a prompt built from task vectors (Belanec et al. 2024, eq. 6).
    ///
    /// Order: the sum as in `sum(_:lambda:)`, then init_j + (λ s_j) elementwise.
    ///
    /// - Throws: as `sum(_:lambda:)`, plus `.shapeMismatch` when the init's shape differs.
    public static func onto(init initial: Tensor, taus: [Tensor], lambda: Float = 1) throws -> Tensor {
        let combined = try sum(taus, lambda: lambda)
        _ = try commonShape([initial, combined], "add --onto")
        return try initial.adding(combined)
    }
}
