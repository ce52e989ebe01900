import Foundation
import PVecAlgebra
import PVecModel
import PVecOps
import PVecStore
import PVecTensor

/// `pvec compose`: fitted coefficients over registry task vectors. Learns w in
/// P = init + Σ_i w_i τ_i (one weight per vector, or per vector and row) on a few target
/// examples with the backbone, the init and the vectors frozen, then stores P as a `compose`
/// artifact whose recipe is the weights, so `verify` recomputes it bit for bit; optionally
/// followed by plain prompt tuning from P.
///
/// Stores `NAME.init` (the seeded init, when no `--init`), and then either `NAME` (the composed
/// prompt) or, with `thenSteps`, `NAME.composed` and `NAME` tuned from it with `NAME.tau`.
public struct ComposeRun: TrainingRun {
    public var task: TaskSpec
    public var train: Dataset
    /// Task vectors (or prompts with a recorded init), in order.
    public var sources: [String]
    public var name: String
    /// Compose onto this registry init or prompt; otherwise a seeded `vocab-sample` init.
    public var initSpec: String?
    public var initSeed: UInt64 = 0
    /// Class-balanced shots per label of the target (nil: all its training data).
    public var shots: Int?
    /// One weight per vector and prompt row instead of one per vector.
    public var perRow = false
    public var method: CompositionFitMethod = .gradient
    /// Every weight's start; nil: 1/n, the mean of the vectors (the fixed sum `pvec add
    /// --lambda 1/n`, the best start without target data in docs/study.md).
    public var startWeight: Float?
    /// Step size σ of the search at its start.
    public var sigma: Float = 0.1
    /// Fit: steps, batch, seed, warm-up, clipping, temperature, max length; `learningRate` is the
    /// weights' raw peak rate.
    public var config: TrainConfig
    /// Plain prompt-tuning steps from the composed prompt (0: none).
    public var thenSteps = 0
    /// Peak rate of those steps, in embedding-RMS units (as `pvec train --lr`).
    public var thenLearningRate: Float = 0.3
    /// Weight decay of those steps (the fit itself has none).
    public var thenWeightDecay: Float = TrainConfig().weightDecay

    public init(task: TaskSpec, train: Dataset, sources: [String], name: String) {
        self.task = task
        self.train = train
        self.sources = sources
        self.name = name
        config = TrainConfig()
        config.steps = 40
        config.batchSize = 8
        config.learningRate = 0.05
        config.weightDecay = 0
    }

    public func validate() throws {
        guard !sources.isEmpty else { throw TrainError.badSources("compose needs at least one source vector") }
        guard Set(sources).count == sources.count else { throw TrainError.badSources("a source is named twice") }
        if let startWeight, !startWeight.isFinite { throw TrainError.badSources("the start weight must be a finite number") }
        guard sigma > 0, sigma.isFinite else { throw TrainError.badSources("--sigma must be positive") }
        guard thenSteps >= 0 else { throw TrainError.badSources("--then-steps must be 0 or more") }
    }

    public var outputNames: [String] {
        (initSpec == nil ? ["\(name).init"] : []) + (thenSteps > 0 ? ["\(name).composed", name, "\(name).tau"] : [name])
    }
    public var inputNames: [String] { sources + (initSpec.map { [$0] } ?? []) }

    public func run(in session: TrainingSession) throws -> ComposeOutcome {
        let registry = session.registry
        let inputs = try registry.compositionInputs(sources, command: session.command)
        let backbone = try session.model().fingerprint
        guard let b = inputs.backbone, b.isCompatible(with: backbone) else {
            throw OpsError.backboneMismatch("\(sources[0]) (\(inputs.backbone?.description ?? "no backbone"))", "the model (\(backbone))")
        }
        let placement = try Self.placement(of: inputs, in: registry)
        var fitConfig = config
        fitConfig.placement = placement
        let model = try session.model(placement: placement)
        let rows = inputs.shape.rank == 2 ? inputs.shape.rows : 1
        let start = try session.startingPoint(initSpec, expected: "an init or prompt to compose onto", rows: rows, seed: initSeed)
        guard start.tensor.shape == inputs.shape else {
            throw OpsError.shapeMismatch(initSpec ?? "the seeded init", start.tensor.shape, sources[0], inputs.shape)
        }
        let sample = try TrainingSession.fewShot([TaskData(task: task, train: train)], shots: shots, seed: config.seed)[0].train
        let scorer = try LabelScorer(task: task, model: model, temperature: config.temperature, maxLength: config.maxLength)
        let n = inputs.tensors.count
        let w0 = startWeight ?? 1 / Float(n)
        let startWeights: CompositionWeights = perRow
            ? .perRow([Float](repeating: w0, count: n * rows), rows: rows) : .perSource([Float](repeating: w0, count: n))
        let fitter = CoefficientFitter(model: model, scorer: scorer, config: fitConfig)
        let fit = try fitter.fit(init: start.tensor, taus: inputs.tensors, start: startWeights, train: sample, method: method,
                                 sigma: sigma, progress: session.progress)

        let initStored = try session.store(start, name: "\(name).init")
        var record = TrainingHyperparameters(fitConfig).params
        record["method"] = .string(method.rawValue)
        record["start_weight"] = .double(Double(w0))
        if method == .search { record["sigma"] = .double(Double(sigma)) }
        for (k, v) in TaskRecord(task, train).params { record[k] = v }
        if let shots { record["shots"] = .count(shots) }
        record["examples"] = .count(sample.examples.count)
        record["loss_start"] = .double(ClassificationMetrics.rounded(Double(fit.startLoss)))
        record["loss_end"] = .double(ClassificationMetrics.rounded(Double(fit.endLoss)))
        let recipe = ComposeRecipe(weights: fit.weights, fit: record)
        let composedName = thenSteps > 0 ? "\(name).composed" : name
        let composed = try registry.storeComposition(inputs, init: initStored.id.hex, recipe: recipe, name: composedName,
                                                     command: session.command)
        var tuned: TrainOutcome?
        if thenSteps > 0 {
            var run = PromptTuningRun(task: task, train: train, name: name)
            run.initSpec = composed.stored.id.hex
            run.shots = shots
            run.config = config
            run.config.placement = placement
            run.config.steps = thenSteps
            run.config.learningRate = thenLearningRate
            run.config.weightDecay = thenWeightDecay
            tuned = try run.run(in: session)
        }
        return ComposeOutcome(initArtifact: initStored, composed: composed.stored, tuned: tuned, fit: fit,
                              sources: inputs.vectors.map(\.id))
    }

    /// The placement the sources were trained with (all must agree); the default for new
    /// prompts when none of them was trained here.
    static func placement(of inputs: CompositionInputs, in registry: Registry) throws -> PromptPlacement {
        var found: (spec: String, placement: PromptPlacement)?
        for (spec, v) in zip(inputs.specs, inputs.vectors) {
            guard let p = registry.trainedPlacement(of: v.id) else { continue }
            if let f = found, f.placement != p {
                throw TrainError.badSources("\(TerminalText.quoted(f.spec)) was trained with its prompt \(f.placement.rawValue) but \(TerminalText.quoted(spec)) \(p.rawValue); compose vectors of one placement")
            }
            found = (spec, p)
        }
        return found?.placement ?? PromptPlacement.defaultForNewPrompts
    }
}

/// What a compose run stored.
public struct ComposeOutcome {
    /// The init composed onto (stored, or the one given).
    public var initArtifact: Stored
    /// init + Σ w_i τ_i: `NAME`, or `NAME.composed` when tuning followed.
    public var composed: Stored
    /// The plain tuning from the composed prompt, when `thenSteps` > 0.
    public var tuned: TrainOutcome?
    var fit: CoefficientFit
    /// The vectors' ids, in order.
    public var sources: [ArtifactID]

    public var weights: [Float] { fit.weights.values }
    public var startLoss: Float { fit.startLoss }
    public var endLoss: Float { fit.endLoss }
    public var losses: [Float] { fit.losses }
    public var seconds: Double { fit.seconds }
}
