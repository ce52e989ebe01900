import Foundation
import PVecModel
import PVecTensor

/// The outcome of an ATTEMPT run.
public struct AttemptResult: Sendable {
    /// The trained target prompts P_t `[m, d]`, one per task, in task order.
    var targets: [Tensor]
    /// The trained attention module G (shared by the tasks).
    var module: AttemptModule
    public var losses: [Float]
    public var seconds: Double

    /// The target prompt of a single-task run.
    var target: Tensor { targets[0] }
}

/// ATTEMPT training (Asai et al. 2022, §3.3): the sources and the backbone are frozen; target
/// prompts P_t and the attention module G learn, each group at its own peak learning rate (the
/// P_t in embedding-RMS units, G's as given), in the shared `runSteps` loop (linear warm-up and
/// decay, AdamW, global-norm clipping over all trained tensors together).
///
/// One task: batches follow the task's `BatchOrder`. Several tasks (the paper's multi-task
/// setting): one target prompt per task and one shared G, batches mixed examples-proportionally
/// with a per-task cap; each example is composed with its own task's target. A G trained this
/// way on the source tasks is the paper's pre-trained attention module: start a new target's
/// run from it.
public final class AttemptTrainer {
    let model: any BackboneModel
    /// The run's settings, `learningRateScale` resolved.
    let config: TrainConfig
    /// Peak learning rate of G (the target prompts use `config.learningRate`).
    var moduleLearningRate: Float

    public init(model: any BackboneModel, config: TrainConfig, moduleLearningRate: Float) {
        self.model = model
        self.config = config.resolvingScale(for: model)
        self.moduleLearningRate = moduleLearningRate
    }

    /// Trains P_t (from `initial`) and G (from `module`) on one task.
    ///
    /// - Parameters:
    ///   - sources: the frozen source prompts, all shaped like `initial`.
    ///   - progress: called after each step.
    public func train(task: TaskData, initial: Tensor, sources: [Tensor], module: AttemptModule,
                      progress: ((TrainProgress) -> Void)? = nil) throws -> AttemptResult {
        var order = BatchOrder(count: task.train.examples.count, seed: config.seed, batchSize: config.batchSize)
        return try run(tasks: [task], initials: [initial], sources: sources, module: module,
                       total: config.totalSteps(examples: task.train.examples.count), progress: progress) { step in
            order.batch(step: step).map { (0, $0) }
        }
    }

    /// Trains one target prompt per task (from `initials`, in task order) and one shared G.
    ///
    /// - Parameter mixingCap: per-task cap of the examples-proportional mixing (0: none).
    func train(tasks: [TaskData], initials: [Tensor], sources: [Tensor], module: AttemptModule, mixingCap: Int,
                      progress: ((TrainProgress) -> Void)? = nil) throws -> AttemptResult {
        precondition(tasks.count == initials.count, "ATTEMPT: one initial target per task")
        var sampler = MultiTaskSampler(counts: tasks.map(\.train.examples.count), cap: mixingCap, seed: config.seed)
        let total = config.totalSteps(examples: sampler.cappedCount)
        return try run(tasks: tasks, initials: initials, sources: sources, module: module, total: total, progress: progress) { _ in
            sampler.next(config.batchSize)
        }
    }

    private func run(tasks: [TaskData], initials: [Tensor], sources: [Tensor], module: AttemptModule, total: Int,
                     progress: ((TrainProgress) -> Void)?, next: (Int) -> [(task: Int, example: Int)]) throws -> AttemptResult {
        let started = Date()
        let d = module.width, T = tasks.count
        let scorers = try tasks.map { try LabelScorer(task: $0.task, model: model, temperature: config.temperature, maxLength: config.maxLength) }
        let tokenized = tasks.map { t in t.train.examples.map { model.tokenize($0.textA, pair: $0.textB, maxLength: config.maxLength) } }
        var embeddingCache: [Int: [Float]] = [:]
        let xhatAll = tokenized.map { AttemptInputs.pooledEmbeddings($0, model: model, cache: &embeddingCache) }
        var g = module
        let wd = config.weightDecay, lr = moduleLearningRate
        var params = initials.enumerated().map { t, p in
            LearnedParameter(T == 1 ? "target" : "target.\(tasks[t].task.name)", p,
                             learningRate: config.promptRate(config.learningRate), weightDecay: wd)
        }
        params += [
            LearnedParameter("W_down", Tensor(shape: [d, g.rank], scalars: g.wDown), learningRate: lr, weightDecay: wd),
            LearnedParameter("W_up", Tensor(shape: [g.rank, d], scalars: g.wUp), learningRate: lr, weightDecay: wd),
            LearnedParameter("ln_gain", Tensor(shape: [d], scalars: g.lnGain), learningRate: lr, weightDecay: 0),
            LearnedParameter("ln_bias", Tensor(shape: [d], scalars: g.lnBias), learningRate: lr, weightDecay: 0),
        ]
        func sync(_ p: [LearnedParameter]) {
            g.wDown = p[T].value.scalars
            g.wUp = p[T + 1].value.scalars
            g.lnGain = p[T + 2].value.scalars
            g.lnBias = p[T + 3].value.scalars
        }
        let losses = try runSteps(total: total, config: config, params: &params, examplesPerStep: config.batchSize,
                                  progress: progress) { step, p in
            sync(p)
            let picks = next(step)
            var xhat: [Float] = []
            xhat.reserveCapacity(picks.count * d)
            for pick in picks { xhat += xhatAll[pick.task][(pick.example * d)..<((pick.example + 1) * d)] }
            let labels = picks.map { tasks[$0.task].train.examples[$0.example].label }
            let (loss, targetGrads, moduleGrads) = try Self.batchGradients(
                model: model, batch: picks.map { tokenized[$0.task][$0.example] }, tasks: picks.map(\.task), xhat: xhat,
                targets: (0..<T).map { p[$0].value }, sources: sources, module: g) { f in
                    try multiTaskLoss(features: f, tasks: picks.map(\.task), labels: labels, scorers: scorers)
                }
            for t in 0..<T { p[t].grad = targetGrads[t] }
            p[T].grad = moduleGrads.wDown
            p[T + 1].grad = moduleGrads.wUp
            p[T + 2].grad = moduleGrads.lnGain
            p[T + 3].grad = moduleGrads.lnBias
            return loss
        }
        sync(params)
        return AttemptResult(targets: (0..<T).map { params[$0].value }, module: g, losses: losses,
                             seconds: Date().timeIntervalSince(started))
    }

    /// The loss of one batch whose example b belongs to task `tasks[b]` and is composed with that
    /// task's target, and its gradients: dL/dP_t per task (zeros for tasks not in the batch) and
    /// dL/dG summed over the tasks. `head` turns the features `[B, C]` into the loss and dL/dfeatures.
    static func batchGradients(model: any BackboneModel, batch: [TokenizedText], tasks: [Int], xhat: [Float],
                               targets: [Tensor], sources: [Tensor], module g: AttemptModule,
                               head: (Tensor) throws -> (Float, Tensor)) throws
        -> (loss: Float, targets: [[Float]], module: AttemptModule.Gradients) {
        let d = g.width, n = targets[0].count
        var prompts = [Tensor?](repeating: nil, count: batch.count)
        var parts: [(task: Int, rows: [Int], cache: AttemptModule.Cache)] = []
        for t in Set(tasks).sorted() {
            let rows = tasks.indices.filter { tasks[$0] == t }
            var x: [Float] = []
            x.reserveCapacity(rows.count * d)
            for r in rows { x += xhat[(r * d)..<((r + 1) * d)] }
            let (ps, _, cache) = g.forward(xhat: x, sources: sources, target: targets[t])
            for (k, r) in rows.enumerated() { prompts[r] = ps[k] }
            parts.append((t, rows, cache))
        }
        let f = try model.forward(batch, prompts: prompts.map { $0! }, normalize: true)
        let (loss, dF) = try head(f)
        var targetGrads = targets.map { [Float](repeating: 0, count: $0.count) }
        var moduleGrads = AttemptModule.Gradients(width: d, rank: g.rank, promptCount: n)
        guard loss.isFinite else { return (loss, targetGrads, moduleGrads) }
        let per = try model.backward(dFeatures: dF, inputGradients: false).promptPerExample!
        for part in parts {
            var dPrompts: [Float] = []
            dPrompts.reserveCapacity(part.rows.count * n)
            for r in part.rows { dPrompts += per.scalars[(r * n)..<((r + 1) * n)] }
            // The module's gradients accumulate over the tasks; each task's target gets its own.
            moduleGrads.target = [Float](repeating: 0, count: n)
            g.backward(dPrompts: dPrompts, cache: part.cache, sources: sources, target: targets[part.task], grads: &moduleGrads)
            targetGrads[part.task] = moduleGrads.target
        }
        return (loss, targetGrads, moduleGrads)
    }
}

/// A trained ATTEMPT composite at inference: target, module and sources.
struct AttemptComposite: PromptComposer {
    var target: Tensor
    var sources: [Tensor]
    var module: AttemptModule

    init(target: Tensor, sources: [Tensor], module: AttemptModule) {
        self.target = target
        self.sources = sources
        self.module = module
    }

    func prompts(for batch: [TokenizedText], model: any BackboneModel,
                        cache: inout [Int: [Float]]) throws -> (prompts: [Tensor], attention: [Float]?) {
        let xhat = AttemptInputs.pooledEmbeddings(batch, model: model, cache: &cache)
        let (p, a, _) = module.forward(xhat: xhat, sources: sources, target: target)
        return (p, a)
    }
}
