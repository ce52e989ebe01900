import Foundation
import PVecTensor

/// How the step loop measures the global gradient norm it clips.
enum GradientNorm {
    /// Accumulated in Double over every parameter (the composition methods).
    case double
    /// BLAS `snrm2` of each gradient (prompt tuning has always clipped its one gradient so;
    /// kept so recorded runs reproduce bit for bit).
    case blas
}

/// What a run's hook reports after a step.
struct StepReport {
    /// Set on steps where a dev set was evaluated.
    var devAccuracy: Double?
    /// End the run after this step (early stopping).
    var stop = false
}

/// The optimisation loop every gradient-trained run shares (prompt tuning and the composition
/// methods). Each step from `start` to `total` calls `body`, which runs the batch forward and
/// backward and fills the gradients of `params` (reading their current values), and returns the
/// batch loss; then the global gradient norm over all of `params` is clipped to
/// `config.clipNorm`, every parameter takes one AdamW step at its own peak rate times the
/// warm-up/decay schedule of `config`, `afterStep` (given the steps done and the losses so
/// far) may evaluate, checkpoint or stop, and `progress` hears about it.
///
/// - Parameters:
///   - start: the first step (a resumed run), with `prior`, the losses of the steps before it.
/// - Returns: the loss of every step, in order (`prior` first).
func runSteps(from start: Int = 0, total: Int, prior: [Float] = [], config: TrainConfig, params: inout [LearnedParameter],
              examplesPerStep: Int, norm: GradientNorm = .double, progress: ((TrainProgress) -> Void)?,
              afterStep: ((_ done: Int, _ params: [LearnedParameter], _ losses: [Float]) throws -> StepReport)? = nil,
              body: (_ step: Int, _ params: inout [LearnedParameter]) throws -> Float) throws -> [Float] {
    var losses = prior
    losses.reserveCapacity(total)
    let started = Date()
    for step in start..<max(start, total) {
        params.zeroGrad()
        let loss = try body(step, &params)
        guard loss.isFinite else { throw TrainError.diverged(step: step) }
        let schedule = config.scheduleFactor(at: step, total: total)
        params.step(schedule: schedule, maxNorm: config.clipNorm, norm: norm)
        losses.append(loss)
        let report = try afterStep?(step + 1, params, losses) ?? StepReport()
        if let progress {
            var p = stepProgress(step, total, loss: loss, lr: config.learningRate * schedule, batch: examplesPerStep,
                                 started: started, start: start)
            p.devAccuracy = report.devAccuracy
            progress(p)
        }
        if report.stop { break }
    }
    return losses
}

/// Progress of 0-based `step` of a run that began (or resumed) at `start`.
func stepProgress(_ step: Int, _ total: Int, loss: Float, lr: Float, batch: Int, started: Date, start: Int = 0) -> TrainProgress {
    let elapsed = Date().timeIntervalSince(started)
    let done = step + 1 - start
    return TrainProgress(step: step + 1, totalSteps: total, loss: loss, learningRate: lr,
                         examplesPerSecond: Double(done * batch) / max(elapsed, 1e-9),
                         secondsLeft: elapsed / Double(done) * Double(total - step - 1), devAccuracy: nil)
}
