import Foundation
import PVecAlgebra
import PVecModel
import PVecTensor

/// How `pvec compose` fits its weights.
public enum CompositionFitMethod: String, Sendable, CaseIterable {
    /// AdamW on the weights with the gradient dL/dw_i = ⟨dL/dP, τ_i⟩ through the frozen model.
    case gradient
    /// A seeded (1+1) evolution strategy on the few-shot loss, forward passes only (gradient-free,
    /// as LoraHub fits its LoRA weights).
    case search
}

/// The outcome of a fit.
struct CoefficientFit {
    var weights: CompositionWeights
    /// Loss on the whole few-shot set with the start weights and with the fitted ones.
    var startLoss: Float
    var endLoss: Float
    /// One loss per step: the batch loss (gradient) or the best loss so far (search).
    var losses: [Float]
    var seconds: Double
}

/// Fits the weights of P = init + Σ w_i τ_i (one per vector, or per vector and row) on a few
/// target examples with the backbone, the init and the vectors frozen.
///
/// The gradient of the loss with respect to the weights is the prompt gradient the model
/// already computes, projected on each vector: dL/dw_i = Σ_{r,c} dP[r,c] τ_i[r,c] (per row: the
/// sum over c only). Every step builds P with `TaskVector.composed`, the same code `verify`
/// runs, so the prompt stored at the end is the one the last weights make.
struct CoefficientFitter {
    let model: any BackboneModel
    let scorer: LabelScorer
    /// Steps, batch, seed, warm-up, clipping; `learningRate` is the weights' raw peak rate.
    let config: TrainConfig

    func fit(init initial: Tensor, taus: [Tensor], start: CompositionWeights, train: Dataset, method: CompositionFitMethod,
             sigma: Float = 0.1, progress: ((TrainProgress) -> Void)? = nil) throws -> CoefficientFit {
        guard !train.examples.isEmpty else { throw TrainError.notEnoughData("compose needs at least one target example") }
        let started = Date()
        let tokens = train.examples.map { model.tokenize($0.textA, pair: $0.textB, maxLength: config.maxLength) }
        let labels = train.examples.map(\.label)
        let startLoss = try loss(initial, taus, start, tokens, labels)
        var fitted: CompositionWeights
        var losses: [Float]
        switch method {
        case .gradient:
            (fitted, losses) = try gradientFit(initial, taus, start, tokens, labels, progress: progress)
        case .search:
            (fitted, losses) = try searchFit(initial, taus, start, startLoss, tokens, labels, sigma: sigma, progress: progress)
        }
        let endLoss = try loss(initial, taus, fitted, tokens, labels)
        return CoefficientFit(weights: fitted, startLoss: startLoss, endLoss: endLoss, losses: losses,
                              seconds: Date().timeIntervalSince(started))
    }

    /// Mean loss of the prompt the weights make over the examples, in batches of `config.batchSize`.
    func loss(_ initial: Tensor, _ taus: [Tensor], _ w: CompositionWeights, _ tokens: [TokenizedText], _ labels: [Int]) throws -> Float {
        let p = try TaskVector.composed(init: initial, taus: taus, weights: w)
        var total: Double = 0
        var start = 0
        while start < tokens.count {
            let end = min(tokens.count, start + max(1, config.batchSize))
            let f = try model.forward(Array(tokens[start..<end]), prompt: p, normalize: true)
            let (l, _, _) = try scorer.lossAndGradient(f, labels: Array(labels[start..<end]))
            total += Double(l) * Double(end - start)
            start = end
        }
        return Float(total / Double(tokens.count))
    }

    /// dL/dw from the prompt gradient: per vector, or per vector and row.
    static func weightGradient(dPrompt: Tensor, taus: [Tensor], like w: CompositionWeights) -> [Float] {
        let rows = dPrompt.shape.rank == 2 ? dPrompt.shape.rows : 1
        let width = rows > 0 ? dPrompt.count / rows : 0
        var perRow = [Double](repeating: 0, count: taus.count * rows)
        dPrompt.scalars.withUnsafeBufferPointer { g in
            for (i, tau) in taus.enumerated() {
                tau.scalars.withUnsafeBufferPointer { t in
                    for r in 0..<rows {
                        var s: Double = 0
                        for c in 0..<width { s += Double(g[r * width + c]) * Double(t[r * width + c]) }
                        perRow[i * rows + r] = s
                    }
                }
            }
        }
        switch w {
        case .perRow:
            return perRow.map { Float($0) }
        case .perSource:
            return (0..<taus.count).map { i in Float(perRow[(i * rows)..<((i + 1) * rows)].reduce(0, +)) }
        }
    }

    private func gradientFit(_ initial: Tensor, _ taus: [Tensor], _ start: CompositionWeights, _ tokens: [TokenizedText],
                             _ labels: [Int], progress: ((TrainProgress) -> Void)?) throws -> (CompositionWeights, [Float]) {
        let total = config.totalSteps(examples: tokens.count)
        var params = [LearnedParameter("weights", Tensor(shape: [start.values.count], scalars: start.values),
                                       learningRate: config.learningRate, weightDecay: 0)]
        var order = BatchOrder(count: tokens.count, seed: config.seed, batchSize: max(1, config.batchSize))
        let losses = try runSteps(total: total, config: config, params: &params, examplesPerStep: config.batchSize,
                                  progress: progress) { step, p in
            let picks = order.batch(step: step)
            let w = start.with(values: p[0].value.scalars)
            let prompt = try TaskVector.composed(init: initial, taus: taus, weights: w)
            let f = try model.forward(picks.map { tokens[$0] }, prompt: prompt, normalize: true)
            let (l, dF, _) = try scorer.lossAndGradient(f, labels: picks.map { labels[$0] })
            guard l.isFinite else { return l }
            guard let dP = try model.backward(dFeatures: dF, inputGradients: false).prompt else {
                throw TrainError.notEvaluable("the model gave no prompt gradient")
            }
            p[0].grad = Self.weightGradient(dPrompt: dP, taus: taus, like: w)
            return l
        }
        return (start.with(values: params[0].value.scalars), losses)
    }

    /// (1+1)-ES with the one-fifth success rule: each step tries w + σ·z (z standard normal,
    /// SplitMix64 from `config.seed` by Box–Muller), keeps it when the few-shot loss drops, and
    /// widens σ by 1.5 on success, narrows it by 1.5^(−1/4) on failure.
    private func searchFit(_ initial: Tensor, _ taus: [Tensor], _ start: CompositionWeights, _ startLoss: Float,
                           _ tokens: [TokenizedText], _ labels: [Int], sigma: Float,
                           progress: ((TrainProgress) -> Void)?) throws -> (CompositionWeights, [Float]) {
        let total = config.totalSteps(examples: tokens.count)
        var rng = SplitMix64(seed: config.seed ^ 0xC0FF_EE00_5EED_0001)
        var best = start, bestLoss = startLoss, step = sigma
        var losses: [Float] = []
        let started = Date()
        let grow: Float = 1.5, shrink = Float(pow(1.5, -0.25))
        for s in 0..<total {
            let w = start.with(values: best.values.map { $0 + step * Self.gaussian(&rng) })
            let l = try loss(initial, taus, w, tokens, labels)
            if l.isFinite && l < bestLoss {
                best = w
                bestLoss = l
                step *= grow
            } else {
                step *= shrink
            }
            losses.append(bestLoss)
            progress?(stepProgress(s, total, loss: bestLoss, lr: step, batch: tokens.count, started: started))
        }
        return (best, losses)
    }

    /// A standard normal by Box–Muller from two uniforms in (0, 1].
    static func gaussian(_ rng: inout SplitMix64) -> Float {
        let u1 = 1 - Double(rng.nextFloat01()), u2 = Double(rng.nextFloat01())
        return Float((-2 * Foundation.log(u1)).squareRoot() * Foundation.cos(2 * Double.pi * u2))
    }
}
