import Foundation
import PVecModel
import PVecTensor

/// The outcome of an AMP run.
public struct DAMResult: Sendable {
    /// One target prompt per task, `[l, d]`, in task order.
    var targets: [Tensor]
    var module: DAMModule
    /// Attention A `[n, n]` of the final module (row i: task i over the sources).
    public var attention: [Float]
    public var losses: [Float]
    public var seconds: Double
}

/// AMP training: the n source prompts (one per task) and the backbone are frozen; W_Q, W_K and W_V
/// of `DAMModule` (module weights: `config.learningRate` unscaled) learn from all tasks at once in
/// the shared `runSteps` loop, batches mixed examples-proportionally with a per-task cap. Task i
/// is scored with target prompt i.
final class DAMTrainer {
    let model: any BackboneModel
    let config: TrainConfig
    /// Per-task cap of the examples-proportional mixing.
    var mixingCap: Int

    init(model: any BackboneModel, config: TrainConfig, mixingCap: Int) {
        self.model = model
        self.config = config
        self.mixingCap = mixingCap
    }

    func train(tasks: [TaskData], sources: [Tensor], module: DAMModule,
                      progress: ((TrainProgress) -> Void)? = nil) throws -> DAMResult {
        precondition(tasks.count == sources.count, "AMP: one source prompt per task")
        let started = Date()
        let scorers = try tasks.map { try LabelScorer(task: $0.task, model: model, temperature: config.temperature, maxLength: config.maxLength) }
        let tokenized = tasks.map { t in t.train.examples.map { model.tokenize($0.textA, pair: $0.textB, maxLength: config.maxLength) } }
        var sampler = MultiTaskSampler(counts: tasks.map(\.train.examples.count), cap: mixingCap, seed: config.seed)
        let total = config.totalSteps(examples: sampler.cappedCount)
        let d = module.width, k = module.keyWidth, l = sources[0].shape.rows
        var g = module
        let lr = config.learningRate, wd = config.weightDecay
        var params = [
            LearnedParameter("W_Q", Tensor(shape: [d, k], scalars: g.wQ), learningRate: lr, weightDecay: wd),
            LearnedParameter("W_K", Tensor(shape: [d, k], scalars: g.wK), learningRate: lr, weightDecay: wd),
            LearnedParameter("W_V", Tensor(shape: [d, d], scalars: g.wV), learningRate: lr, weightDecay: wd),
        ]
        func sync(_ p: [LearnedParameter]) {
            g.wQ = p[0].value.scalars
            g.wK = p[1].value.scalars
            g.wV = p[2].value.scalars
        }
        let losses = try runSteps(total: total, config: config, params: &params, examplesPerStep: config.batchSize,
                                  progress: progress) { _, p in
            sync(p)
            let picks = sampler.next(config.batchSize)
            let (targets, _, cache) = g.forwardCached(sources: sources)
            let f = try model.forward(picks.map { tokenized[$0.task][$0.example] }, prompts: picks.map { targets[$0.task] }, normalize: true)
            let (loss, dF) = try multiTaskLoss(features: f, tasks: picks.map(\.task),
                                               labels: picks.map { tasks[$0.task].train.examples[$0.example].label }, scorers: scorers)
            guard loss.isFinite else { return loss }
            let per = try model.backward(dFeatures: dF, inputGradients: false).promptPerExample!
            var dTargets = [Float](repeating: 0, count: sources.count * l * d)
            for (b, pick) in picks.enumerated() {
                for i in 0..<(l * d) { dTargets[pick.task * l * d + i] += per.scalars[b * l * d + i] }
            }
            var grads = DAMModule.Gradients(width: d, keyWidth: k)
            g.backward(dTargets: dTargets, cache: cache, grads: &grads)
            p[0].grad = grads.wQ
            p[1].grad = grads.wK
            p[2].grad = grads.wV
            return loss
        }
        sync(params)
        let (targets, attention) = g.forward(sources: sources)
        return DAMResult(targets: targets, module: g, attention: attention, losses: losses, seconds: Date().timeIntervalSince(started))
    }
}
