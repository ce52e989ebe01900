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
/// rate (P_t's in embedding-RMS units, G's as given), in the shared `runSteps` loop (linear
/// warm-up and decay, AdamW, global-norm clipping over all trained tensors together).
///
/// Multi-task training with a shared G and G's pre-training on the source tasks (both in the
/// paper) are not done here: G starts fresh for each target.
public final class AttemptTrainer {
    public let model: any BackboneModel
    public let scorer: LabelScorer
    /// The run's settings, `learningRateScale` resolved.
    public let config: TrainConfig
    /// Peak learning rate of G (the target prompt uses `config.learningRate`).
    public var moduleLearningRate: Float

    public init(model: any BackboneModel, scorer: LabelScorer, config: TrainConfig, moduleLearningRate: Float) {
        self.model = model
        self.scorer = scorer
        self.config = config.resolvingScale(for: model)
        self.moduleLearningRate = moduleLearningRate
    }

    /// Trains P_t (from `initial`) and G (from `module`) on `train`.
    ///
    /// - Parameters:
    ///   - sources: the frozen source prompts, all shaped like `initial`.
    ///   - progress: called after each step.
    public func train(initial: Tensor, sources: [Tensor], module: AttemptModule, train: Dataset,
                      progress: ((TrainProgress) -> Void)? = nil) throws -> AttemptResult {
        let started = Date()
        let d = module.width
        let tokenized = train.examples.map { model.tokenize($0.textA, pair: $0.textB, maxLength: config.maxLength) }
        var embeddingCache: [Int: [Float]] = [:]
        let xhatAll = AttemptInputs.pooledEmbeddings(tokenized, model: model, cache: &embeddingCache)
        var g = module
        let wd = config.weightDecay, lr = moduleLearningRate
        var params = [
            LearnedParameter("target", initial, learningRate: config.promptRate(config.learningRate), weightDecay: wd),
            LearnedParameter("W_down", Tensor(shape: [d, g.rank], scalars: g.wDown), learningRate: lr, weightDecay: wd),
            LearnedParameter("W_up", Tensor(shape: [g.rank, d], scalars: g.wUp), learningRate: lr, weightDecay: wd),
            LearnedParameter("ln_gain", Tensor(shape: [d], scalars: g.lnGain), learningRate: lr, weightDecay: 0),
            LearnedParameter("ln_bias", Tensor(shape: [d], scalars: g.lnBias), learningRate: lr, weightDecay: 0),
        ]
        func sync(_ p: [LearnedParameter]) {
            g.wDown = p[1].value.scalars
            g.wUp = p[2].value.scalars
            g.lnGain = p[3].value.scalars
            g.lnBias = p[4].value.scalars
        }
        var order = BatchOrder(count: train.examples.count, seed: config.seed, batchSize: config.batchSize)
        let losses = try runSteps(total: config.totalSteps(examples: train.examples.count), config: config, params: &params,
                                  examplesPerStep: config.batchSize, progress: progress) { step, p in
            sync(p)
            let picks = order.batch(step: step)
            var xhat: [Float] = []
            xhat.reserveCapacity(picks.count * d)
            for i in picks { xhat += xhatAll[(i * d)..<((i + 1) * d)] }
            let target = p[0].value
            let (prompts, _, cache) = g.forward(xhat: xhat, sources: sources, target: target)
            let f = try model.forward(picks.map { tokenized[$0] }, prompts: prompts, normalize: true)
            let (loss, dF, _) = try scorer.lossAndGradient(f, labels: picks.map { train.examples[$0].label })
            guard loss.isFinite else { return loss }
            let dPrompts = try model.backward(dFeatures: dF, inputGradients: false).promptPerExample!
            var grads = AttemptModule.Gradients(width: d, rank: g.rank, promptCount: target.count)
            g.backward(dPrompts: dPrompts.scalars, cache: cache, sources: sources, target: target, grads: &grads)
            p[0].grad = grads.target
            p[1].grad = grads.wDown
            p[2].grad = grads.wUp
            p[3].grad = grads.lnGain
            p[4].grad = grads.lnBias
            return loss
        }
        sync(params)
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
