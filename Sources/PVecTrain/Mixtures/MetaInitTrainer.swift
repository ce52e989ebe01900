import Foundation
import PVecModel
import PVecTensor

/// The meta-learning algorithm of a meta-learned prompt init.
public enum MetaMethod: String, Sendable, CaseIterable {
    /// Reptile (Nichol et al. 2018): θ ← θ + ε (θ'_task − θ) after k inner steps on the support set.
    case reptile
    /// First-order MAML (Finn et al. 2017): θ ← θ − β ∇L_query(θ'_task), the query gradient taken
    /// at the adapted prompt, without second-order terms.
    case fomaml
}

/// Settings of a meta-init run.
public struct MetaInitConfig: Sendable, Equatable {
    public var method: MetaMethod = .reptile
    /// Outer (meta) steps; each adapts to one task.
    public var outerSteps: Int = 20
    public var innerSteps: Int = 4
    /// Inner SGD learning rate (on the gradient clipped to L2 norm `clipNorm`, so a step moves
    /// the whole prompt by at most this far in L2; not scaled).
    public var innerLearningRate: Float = 0.3
    /// Reptile: the interpolation ε (unitless); FOMAML: the AdamW meta learning rate, in
    /// embedding-RMS units like every prompt-space AdamW rate (StepSize.swift), 0.3 as
    /// `pvec train`. nil: the method's default.
    public var outerLearningRate: Float?
    /// The backbone's embedding RMS, the unit of FOMAML's outer rate; nil: measured.
    var learningRateScale: Float?
    public var batchSize: Int = 8
    public var temperature: Float = 0.05
    public var maxLength: Int = 128
    var clipNorm: Float = 1
    public var seed: UInt64 = 0

    public init() {}

    var effectiveOuterLearningRate: Float { outerLearningRate ?? (method == .reptile ? 0.5 : 0.3) }
}

public struct MetaInitResult: Sendable {
    var prompt: Tensor
    /// Query loss of the adapted prompt at each outer step.
    public var queryLosses: [Float]
    public var seconds: Double
}

/// Meta-learned prompt initialisation over source tasks, as studied by Qin et al. (2023), "Learning
/// to Initialize: Can Meta Learning Improve Cross-task Generalization in Prompt Tuning?" (ACL;
/// MPT). Each task's training data is split once, by a seeded shuffle, into a support half (inner
/// adaptation) and a query half (FOMAML's meta-gradient; the reported loss for both methods).
/// Outer steps visit the tasks round-robin in a seeded order.
final class MetaInitTrainer {
    let model: any BackboneModel
    let config: MetaInitConfig

    /// - Parameter config: when `learningRateScale` is nil it is measured from the model.
    init(model: any BackboneModel, config: MetaInitConfig) {
        self.model = model
        var c = config
        if c.learningRateScale == nil { c.learningRateScale = model.embeddingRMS }
        self.config = c
    }

    /// Support and query indices of `n` examples: the first and second half of a seeded shuffle.
    static func split(_ n: Int, seed: UInt64) -> (support: [Int], query: [Int]) {
        let order = BatchOrder.permutation(epoch: 0, n: n, seed: seed)
        let half = max(1, n / 2)
        return (Array(order[..<half]), n > 1 ? Array(order[half...]) : order)
    }

    func train(initial: Tensor, tasks: [TaskData], progress: ((TrainProgress) -> Void)? = nil) throws -> MetaInitResult {
        let c = config
        let scorers = try tasks.map { try LabelScorer(task: $0.task, model: model, temperature: c.temperature, maxLength: c.maxLength) }
        let tokenized = tasks.map { t in t.train.examples.map { model.tokenize($0.textA, pair: $0.textB, maxLength: c.maxLength) } }
        let splits = tasks.enumerated().map { Self.split($1.train.examples.count, seed: c.seed &+ UInt64($0)) }
        var cursors = [Int](repeating: 0, count: tasks.count)
        var rng = SplitMix64(seed: c.seed ^ 0x3E7A_1417)
        var theta = initial
        var adam = AdamW(count: initial.count, weightDecay: 0)
        let outerLR = c.effectiveOuterLearningRate
        var losses: [Float] = []
        let started = Date()
        var visit: [Int] = []
        /// The next batch of a task's support or query examples (cycling).
        func batch(_ t: Int, _ pool: [Int], _ cursor: inout Int) -> ([TokenizedText], [Int]) {
            var b: [TokenizedText] = [], y: [Int] = []
            for _ in 0..<c.batchSize {
                let i = pool[cursor % pool.count]
                cursor += 1
                b.append(tokenized[t][i])
                y.append(tasks[t].train.examples[i].label)
            }
            return (b, y)
        }
        func lossAndGrad(_ p: Tensor, _ t: Int, _ b: [TokenizedText], _ y: [Int]) throws -> (Float, Tensor) {
            let f = try model.forward(b, prompt: p, normalize: true)
            let (loss, dF, _) = try scorers[t].lossAndGradient(f, labels: y)
            var g = try model.backward(dFeatures: dF, inputGradients: false).prompt!
            if c.clipNorm > 0 { let n = g.norm; if n > c.clipNorm { g.scal(c.clipNorm / n) } }
            return (loss, g)
        }
        var queryCursor = [Int](repeating: 0, count: tasks.count)
        for step in 0..<c.outerSteps {
            if visit.isEmpty {
                visit = Array(tasks.indices)
                for i in stride(from: visit.count - 1, to: 0, by: -1) { visit.swapAt(i, Int(rng.nextBelow(UInt64(i + 1)))) }
            }
            let t = visit.removeFirst()
            var adapted = theta
            for _ in 0..<c.innerSteps {
                let (b, y) = batch(t, splits[t].support, &cursors[t])
                let (_, g) = try lossAndGrad(adapted, t, b, y)
                try adapted.axpy(-c.innerLearningRate, g)
            }
            let (qb, qy) = batch(t, splits[t].query, &queryCursor[t])
            let (qLoss, qGrad) = try lossAndGrad(adapted, t, qb, qy)
            guard qLoss.isFinite else { throw TrainError.diverged(step: step) }
            switch c.method {
            case .reptile:
                try theta.axpy(outerLR, adapted.subtracting(theta))
            case .fomaml:
                adam.step(&theta, grad: qGrad, lr: outerLR * c.learningRateScale!)
            }
            losses.append(qLoss)
            progress?(stepProgress(step, c.outerSteps, loss: qLoss, lr: outerLR, batch: c.batchSize * (c.innerSteps + 1), started: started))
        }
        return MetaInitResult(prompt: theta, queryLosses: losses, seconds: Date().timeIntervalSince(started))
    }
}
