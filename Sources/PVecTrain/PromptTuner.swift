import Foundation
import PVecModel
import PVecTensor

/// What the tuner reports after each step.
public struct TrainProgress: Sendable {
    public var step: Int
    public var totalSteps: Int
    public var loss: Float
    public var learningRate: Float
    public var examplesPerSecond: Double
    public var secondsLeft: Double
    /// Set on steps where the dev set was evaluated.
    public var devAccuracy: Double?
}

/// The outcome of a run.
public struct TrainResult: Sendable {
    /// The tuned prompt (the best on dev when a dev set and `evalEvery` were given).
    public var prompt: Tensor
    /// Mean training loss of each step, in order.
    public var losses: [Float]
    public var stepsRun: Int
    public var bestDevAccuracy: Double?
    public var stoppedEarly: Bool
    public var seconds: Double
}

/// Prompt tuning (Lester et al. 2021): learn only P `[m, C]` in front of a frozen backbone.
///
/// Each step takes the next `batchSize` examples of a seeded `BatchOrder`, runs the model with
/// P, scores with `LabelScorer`, back-propagates to P, clips, and applies AdamW with linear
/// warm-up and decay, the rate in embedding-RMS units (StepSize.swift).
public final class PromptTuner {
    let model: any BackboneModel
    let scorer: LabelScorer
    let config: TrainConfig

    /// - Parameter config: when `learningRateScale` is nil it is measured from the model.
    public init(model: any BackboneModel, scorer: LabelScorer, config: TrainConfig) {
        self.model = model
        self.scorer = scorer
        self.config = config.resolvingScale(for: model)
    }

    /// Runs (or resumes) training.
    ///
    /// - Parameters:
    ///   - initial: P at step 0.
    ///   - train: training examples.
    ///   - dev: optional validation set for early stopping and best-prompt selection.
    ///   - checkpoint: where to save state every `checkpointEvery` steps (and at the end).
    ///   - resume: a checkpoint to continue from.
    ///   - progress: called after every step.
    public func train(initial: Tensor, train: Dataset, dev: Dataset? = nil,
                      checkpoint: URL? = nil, checkpointEvery: Int = 50, resume: Checkpoint? = nil,
                      progress: ((TrainProgress) -> Void)? = nil) throws -> TrainResult {
        let (config, model, scorer) = (self.config, self.model, self.scorer)
        let n = train.examples.count
        let total = config.totalSteps(examples: n)
        // The rate stays in embedding-RMS units; the step multiplies by the RMS last.
        var params = [LearnedParameter("prompt", initial, learningRate: config.learningRate,
                                       weightDecay: config.weightDecay, unit: config.promptRate(1))]
        var startStep = 0
        var prior: [Float] = []
        if let r = resume {
            guard r.prompt.shape == initial.shape, r.step <= total else {
                throw TrainError.badCheckpoint("checkpoint is for a \(r.prompt.shape) prompt at step \(r.step); this run has \(initial.shape) and \(total) steps")
            }
            params[0].value = r.prompt
            params[0].adam.m = r.m
            params[0].adam.v = r.v
            params[0].adam.t = r.step
            startStep = r.step
            prior = r.losses
        }
        let tokenized = train.examples.map { model.tokenize($0.textA, pair: $0.textB, maxLength: config.maxLength) }
        let evaluator = Evaluator(model: model, scorer: scorer, batchSize: 32, maxLength: config.maxLength)
        let started = Date()
        var best: (acc: Double, prompt: Tensor)?
        var evalsWithoutGain = 0
        var stoppedEarly = false
        var order = BatchOrder(count: n, seed: config.seed, batchSize: config.batchSize)
        let losses = try runSteps(from: startStep, total: total, prior: prior, config: config, params: &params,
                                  examplesPerStep: config.batchSize, norm: .blas, progress: progress,
                                  afterStep: { step, p, losses in
            var report = StepReport()
            if let dev, config.evalEvery > 0, step % config.evalEvery == 0 || step == total {
                let acc = try evaluator.evaluate(dev, prompt: p[0].value).accuracy
                report.devAccuracy = acc
                if best == nil || acc > best!.acc {
                    best = (acc, p[0].value)
                    evalsWithoutGain = 0
                } else {
                    evalsWithoutGain += 1
                }
            }
            if let checkpoint, step % checkpointEvery == 0 || step == total {
                try Checkpoint(prompt: p[0].value, m: p[0].adam.m, v: p[0].adam.v, step: step, losses: losses).write(to: checkpoint)
            }
            report.stop = config.patience > 0 && evalsWithoutGain >= config.patience
            stoppedEarly = report.stop
            return report
        }) { step, p in
            let picks = order.batch(step: step)
            let batch = picks.map { tokenized[$0] }, labels = picks.map { train.examples[$0].label }
            let f = try model.forward(batch, prompt: p[0].value, normalize: true)
            let (loss, dF, _) = try scorer.lossAndGradient(f, labels: labels)
            guard loss.isFinite else { return loss }
            p[0].grad = try model.backward(dFeatures: dF, inputGradients: false).prompt!.scalars
            return loss
        }
        return TrainResult(prompt: best?.prompt ?? params[0].value, losses: losses, stepsRun: startStep + losses.count - prior.count,
                           bestDevAccuracy: best?.acc, stoppedEarly: stoppedEarly,
                           seconds: Date().timeIntervalSince(started))
    }
}
