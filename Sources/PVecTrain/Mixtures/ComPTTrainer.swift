import Foundation
import PVecModel
import PVecTensor

/// Learning rates of ComPT's parameter groups (the paper's: router 0.1, sources 0.05, private 0.02).
/// The source and private prompts take theirs in embedding-RMS units (StepSize.swift); each prompt
/// encoder (ordinary weights) learns at the unscaled rate of the prompts it encodes, the router at
/// its own.
public struct ComPTRates: Sendable, Equatable {
    public var router: Float = 0.1
    public var sources: Float = 0.05
    public var privates: Float = 0.02
    public init() {}
}

public struct ComPTResult: Sendable {
    /// The trained shared source prompts (before encoding), M × [l, d].
    var sources: [Tensor]
    /// The trained private prompts (before encoding), T × [rows, d].
    var privates: [Tensor]
    var module: ComPTModule
    /// Per task, the composed prompt with inference weights (softmax of the router logits).
    var composed: [Tensor]
    public var losses: [Float]
    public var seconds: Double
}

/// Multi-task ComPT training over the given tasks: sources, private prompts, both encoders and the
/// router learn together (backbone frozen), batches mixed examples-proportionally with a cap,
/// router weights sampled from a Relaxed Bernoulli whose temperature anneals from 5 to 1e-3.
final class ComPTTrainer {
    let model: any BackboneModel
    /// The run's settings, `learningRateScale` resolved; only the schedule, batch, clipping and
    /// weight decay are read (the peak rates are `rates`).
    let config: TrainConfig
    var rates: ComPTRates
    var mixingCap: Int

    init(model: any BackboneModel, config: TrainConfig, rates: ComPTRates, mixingCap: Int) {
        self.model = model
        self.config = config.resolvingScale(for: model)
        self.rates = rates
        self.mixingCap = mixingCap
    }

    func train(tasks: [TaskData], sources: [Tensor], privates: [Tensor], module: ComPTModule,
                      progress: ((TrainProgress) -> Void)? = nil) throws -> ComPTResult {
        let started = Date()
        let d = model.width, l = sources[0].shape.rows, M = sources.count, T = tasks.count
        let rows = module.composition.privateRows(sourceRows: l, sources: M)
        let scorers = try tasks.map { try LabelScorer(task: $0.task, model: model, temperature: config.temperature, maxLength: config.maxLength) }
        let tokenized = tasks.map { t in t.train.examples.map { model.tokenize($0.textA, pair: $0.textB, maxLength: config.maxLength) } }
        var sampler = MultiTaskSampler(counts: tasks.map(\.train.examples.count), cap: mixingCap, seed: config.seed)
        let total = config.totalSteps(examples: sampler.cappedCount)
        var rng = SplitMix64(seed: config.seed ^ 0xC0A7_17E5)
        var g = module
        let wd = config.weightDecay
        func enc(_ e: PromptEncoder, _ p: String, _ lr: Float) -> [LearnedParameter] {
            [LearnedParameter("\(p).W1", Tensor(shape: [d, d], scalars: e.w1), learningRate: lr, weightDecay: wd),
             LearnedParameter("\(p).b1", Tensor(shape: [d], scalars: e.b1), learningRate: lr, weightDecay: 0),
             LearnedParameter("\(p).W2", Tensor(shape: [d, d], scalars: e.w2), learningRate: lr, weightDecay: wd),
             LearnedParameter("\(p).b2", Tensor(shape: [d], scalars: e.b2), learningRate: lr, weightDecay: 0)]
        }
        var params = [
            LearnedParameter("sources", Tensor(shape: [M * l, d], scalars: sources.flatMap(\.scalars)),
                             learningRate: config.promptRate(rates.sources), weightDecay: wd),
            LearnedParameter("privates", Tensor(shape: [T * rows, d], scalars: privates.flatMap(\.scalars)),
                             learningRate: config.promptRate(rates.privates), weightDecay: wd),
            LearnedParameter("router", Tensor(shape: [T, M], scalars: g.routerLogits), learningRate: rates.router, weightDecay: 0),
        ] + enc(g.sourceEncoder, "source_encoder", rates.sources) + enc(g.privateEncoder, "private_encoder", rates.privates)
        func split(_ t: Tensor, _ parts: Int) -> [Tensor] {
            let r = t.shape.rows / parts
            return (0..<parts).map { Tensor(shape: [r, d], scalars: Array(t.scalars[($0 * r * d)..<(($0 + 1) * r * d)])) }
        }
        func sync(_ p: [LearnedParameter]) {
            g.routerLogits = p[2].value.scalars
            g.sourceEncoder.w1 = p[3].value.scalars; g.sourceEncoder.b1 = p[4].value.scalars
            g.sourceEncoder.w2 = p[5].value.scalars; g.sourceEncoder.b2 = p[6].value.scalars
            g.privateEncoder.w1 = p[7].value.scalars; g.privateEncoder.b1 = p[8].value.scalars
            g.privateEncoder.w2 = p[9].value.scalars; g.privateEncoder.b2 = p[10].value.scalars
        }
        let losses = try runSteps(total: total, config: config, params: &params, examplesPerStep: config.batchSize,
                                  progress: progress) { step, p in
            sync(p)
            let tau = ComPTModule.temperature(at: step, total: total)
            let w = g.sampledWeights(temperature: tau, rng: &rng)
            let (prompts, cache) = g.forward(sources: split(p[0].value, M), privates: split(p[1].value, T), weights: w, tau: tau)
            let picks = sampler.next(config.batchSize)
            let f = try model.forward(picks.map { tokenized[$0.task][$0.example] }, prompts: picks.map { prompts[$0.task] }, normalize: true)
            let (loss, dF) = try multiTaskLoss(features: f, tasks: picks.map(\.task),
                                               labels: picks.map { tasks[$0.task].train.examples[$0.example].label }, scorers: scorers)
            guard loss.isFinite else { return loss }
            let per = try model.backward(dFeatures: dF, inputGradients: false).promptPerExample!
            let n = rows * d
            var dPrompts = [Float](repeating: 0, count: T * n)
            for (b, pick) in picks.enumerated() {
                for i in 0..<n { dPrompts[pick.task * n + i] += per.scalars[b * n + i] }
            }
            var grads = g.zeroGradients(sourceRows: l)
            g.backward(dPrompts: dPrompts, cache: cache, sourceRows: l, grads: &grads)
            let encGrads = [grads.sourceEncoder.w1, grads.sourceEncoder.b1, grads.sourceEncoder.w2, grads.sourceEncoder.b2,
                            grads.privateEncoder.w1, grads.privateEncoder.b1, grads.privateEncoder.w2, grads.privateEncoder.b2]
            p[0].grad = grads.sources
            p[1].grad = grads.privates
            p[2].grad = grads.routerLogits
            for (k, eg) in encGrads.enumerated() { p[3 + k].grad = eg }
            return loss
        }
        sync(params)
        let finalSources = split(params[0].value, M), finalPrivates = split(params[1].value, T)
        let (composed, _) = g.forward(sources: finalSources, privates: finalPrivates, weights: g.inferenceWeights, tau: nil)
        return ComPTResult(sources: finalSources, privates: finalPrivates, module: g, composed: composed, losses: losses,
                           seconds: Date().timeIntervalSince(started))
    }
}
