import PVecModel

/// Hyperparameters of a prompt-tuning run; all of them go into the tuned prompt's recipe
/// (`TrainingHyperparameters`).
public struct TrainConfig: Sendable, Equatable {
    /// Where the prompt goes in the input. The library keeps `.afterCLS` (what recipes without a
    /// placement mean); `pvec train` passes `PromptPlacement.defaultForNewPrompts`.
    public var placement: PromptPlacement = .afterCLS
    /// Optimizer steps; when nil, `epochs` passes over the training data.
    public var steps: Int?
    public var epochs: Int = 1
    public var batchSize: Int = 16
    /// Peak learning rate in units of the backbone's embedding scale (see `learningRateScale`).
    /// Lester et al. and Belanec et al. use 0.3 for T5, whose embeddings are far larger than
    /// MiniLM's; measured in embedding-RMS units the same 0.3 works on both.
    public var learningRate: Float = 0.3
    /// The step size of one unit of a prompt-space learning rate: the backbone's
    /// `embeddingRMS`, ≈ 0.054 for all-MiniLM-L6-v2 (see StepSize.swift). Nil: measured from
    /// the model when training starts (`resolvingScale(for:)`).
    var learningRateScale: Float?
    public var weightDecay: Float = 1e-5
    /// Linear warm-up over this fraction of the steps, then linear decay to zero.
    public var warmupFraction: Float = 0.06
    /// Clip the gradient's global L2 norm to this (0 disables).
    public var clipNorm: Float = 1.0
    /// Softmax temperature of the cosine logits.
    public var temperature: Float = 0.05
    /// Longest tokenized input (prompt rows not included).
    public var maxLength: Int = 128
    /// Seed of the batch order.
    public var seed: UInt64 = 0
    /// Evaluate on the dev set every this many steps (0: only at the end).
    public var evalEvery: Int = 0
    /// Stop after this many dev evaluations without improvement (0: never).
    public var patience: Int = 0

    public init() {}

    /// Total steps for a training set of `n` examples.
    func totalSteps(examples n: Int) -> Int {
        if let steps { return steps }
        return max(1, (epochs * n + batchSize - 1) / batchSize)
    }

    /// The learning rate at 0-based `step` of `total`.
    func learningRate(at step: Int, total: Int) -> Float {
        learningRate * scheduleFactor(at: step, total: total)
    }

    /// The schedule's multiplier of every peak rate at 0-based `step` of `total`: linear warm-up
    /// over `warmupFraction` of the steps to 1, then linear decay to 0.
    func scheduleFactor(at step: Int, total: Int) -> Float {
        let warm = Int((warmupFraction * Float(total)).rounded(.up))
        if warm > 0 && step < warm { return Float(step + 1) / Float(warm) }
        let rest = max(1, total - warm)
        return max(0, Float(total - step) / Float(rest))
    }
}
