import Foundation
import PVecModel
import PVecTensor

/// The outcome of an ATTEMPT run.
public struct AttemptResult: Sendable {
    /// The trained target prompt P_t `[m, d]`.
    public var target: Tensor
    /// The trained attention module G.
    public var module: AttemptModule
    public var losses: [Float]
    public var seconds: Double
}

/// ATTEMPT training on one target task (Asai et al. 2022, §3.3): the sources and the backbone are
/// frozen; the target prompt P_t and the attention module G learn, each at its own peak learning
/// rate, under the schedule of `TrainConfig` (linear warm-up and decay, AdamW, global-norm clipping
/// over all trained tensors together).
///
/// Multi-task training with a shared G and G's pre-training on the source tasks (both in the
/// paper) are not done here: G starts fresh for each target.
public final class AttemptTrainer {
    public let model: any BackboneModel
    public let scorer: LabelScorer
    public let config: TrainConfig
    /// Peak learning rate of G (the target prompt uses `config.learningRate`).
    public var moduleLearningRate: Float

    public init(model: any BackboneModel, scorer: LabelScorer, config: TrainConfig, moduleLearningRate: Float) {
        self.model = model
        self.scorer = scorer
        self.config = config
        self.moduleLearningRate = moduleLearningRate
    }

    /// Trains P_t (from `initial`) and G (from `module`) on `train`.
    ///
    /// - Parameters:
    ///   - sources: the frozen source prompts, all shaped like `initial`.
    ///   - progress: called after each step.
    public func train(initial: Tensor, sources: [Tensor], module: AttemptModule, train: Dataset,
                      progress: ((TrainProgress) -> Void)? = nil) throws -> AttemptResult {
        let n = train.examples.count
        let total = config.totalSteps(examples: n)
        let d = module.width
        let tokenized = train.examples.map { model.tokenize($0.textA, pair: $0.textB, maxLength: config.maxLength) }
        var embeddingCache: [Int: [Float]] = [:]
        let xhatAll = AttemptInputs.pooledEmbeddings(tokenized, model: model, cache: &embeddingCache)
        var g = module
        var params = [
            LearnedParameter("target", initial, learningRate: config.learningRate, weightDecay: config.weightDecay),
            LearnedParameter("W_down", Tensor(shape: [d, g.rank], scalars: g.wDown), learningRate: moduleLearningRate, weightDecay: config.weightDecay),
            LearnedParameter("W_up", Tensor(shape: [g.rank, d], scalars: g.wUp), learningRate: moduleLearningRate, weightDecay: config.weightDecay),
            LearnedParameter("ln_gain", Tensor(shape: [d], scalars: g.lnGain), learningRate: moduleLearningRate, weightDecay: 0),
            LearnedParameter("ln_bias", Tensor(shape: [d], scalars: g.lnBias), learningRate: moduleLearningRate, weightDecay: 0),
        ]
        var losses: [Float] = []
        let started = Date()
        var currentOrder: (epoch: Int, idx: [Int]) = (-1, [])
        for step in 0..<total {
            var batch: [TokenizedText] = [], labels: [Int] = [], xhat: [Float] = []
            for k in (step * config.batchSize)..<((step + 1) * config.batchSize) {
                let epoch = k / n
                if currentOrder.epoch != epoch { currentOrder = (epoch, PromptTuner.order(epoch: epoch, n: n, seed: config.seed)) }
                let i = currentOrder.idx[k % n]
                batch.append(tokenized[i])
                labels.append(train.examples[i].label)
                xhat += xhatAll[(i * d)..<((i + 1) * d)]
            }
            let target = params[0].value
            let (prompts, _, cache) = g.forward(xhat: xhat, sources: sources, target: target)
            let f = try model.forward(batch, prompts: prompts, normalize: true)
            let (loss, dF, _) = try scorer.lossAndGradient(f, labels: labels)
            guard loss.isFinite else { throw TrainError.diverged(step: step) }
            let dPrompts = try model.backward(dFeatures: dF, inputGradients: false).promptPerExample!
            var grads = AttemptModule.Gradients(width: d, rank: g.rank, promptCount: target.count)
            g.backward(dPrompts: dPrompts.scalars, cache: cache, sources: sources, target: target, grads: &grads)
            params[0].grad = grads.target
            params[1].grad = grads.wDown
            params[2].grad = grads.wUp
            params[3].grad = grads.lnGain
            params[4].grad = grads.lnBias
            let lr = config.learningRate(at: step, total: total)
            params.step(schedule: lr / config.learningRate, maxNorm: config.clipNorm)
            g.wDown = params[1].value.scalars
            g.wUp = params[2].value.scalars
            g.lnGain = params[3].value.scalars
            g.lnBias = params[4].value.scalars
            losses.append(loss)
            if let progress {
                let elapsed = Date().timeIntervalSince(started)
                progress(TrainProgress(step: step + 1, totalSteps: total, loss: loss, learningRate: lr,
                                       examplesPerSecond: Double((step + 1) * config.batchSize) / max(elapsed, 1e-9),
                                       secondsLeft: elapsed / Double(step + 1) * Double(total - step - 1), devAccuracy: nil))
            }
        }
        return AttemptResult(target: params[0].value, module: g, losses: losses, seconds: Date().timeIntervalSince(started))
    }
}

/// A trained ATTEMPT composite at inference: target, module and sources.
public struct AttemptComposite: PromptComposer {
    public var target: Tensor
    public var sources: [Tensor]
    public var module: AttemptModule

    public init(target: Tensor, sources: [Tensor], module: AttemptModule) {
        self.target = target
        self.sources = sources
        self.module = module
    }

    public func prompts(for batch: [TokenizedText], model: any BackboneModel,
                        cache: inout [Int: [Float]]) throws -> (prompts: [Tensor], attention: [Float]?) {
        let xhat = AttemptInputs.pooledEmbeddings(batch, model: model, cache: &cache)
        let (p, a, _) = module.forward(xhat: xhat, sources: sources, target: target)
        return (p, a)
    }
}
