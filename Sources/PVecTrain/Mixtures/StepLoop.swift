import Foundation

/// The optimisation loop the composition methods share. Each of the `total` steps calls `body`,
/// which runs the batch forward and backward and fills the gradients of `params` (reading their
/// current values), and returns the batch loss; then the global gradient norm over all of
/// `params` is clipped to `config.clipNorm`, every parameter takes one AdamW step at its own
/// peak rate times the warm-up/decay schedule of `config`, and `progress` hears about it.
///
/// - Returns: the loss of every step, in order.
func runSteps(total: Int, config: TrainConfig, params: inout [LearnedParameter], examplesPerStep: Int,
              progress: ((TrainProgress) -> Void)?,
              body: (_ step: Int, _ params: inout [LearnedParameter]) throws -> Float) throws -> [Float] {
    var losses: [Float] = []
    losses.reserveCapacity(total)
    let started = Date()
    for step in 0..<total {
        params.zeroGrad()
        let loss = try body(step, &params)
        guard loss.isFinite else { throw TrainError.diverged(step: step) }
        let schedule = config.scheduleFactor(at: step, total: total)
        params.step(schedule: schedule, maxNorm: config.clipNorm)
        losses.append(loss)
        progress?(stepProgress(step, total, loss: loss, lr: config.learningRate * schedule, batch: examplesPerStep, started: started))
    }
    return losses
}

/// Progress of a step, as `PromptTuner` reports it.
func stepProgress(_ step: Int, _ total: Int, loss: Float, lr: Float, batch: Int, started: Date) -> TrainProgress {
    let elapsed = Date().timeIntervalSince(started)
    return TrainProgress(step: step + 1, totalSteps: total, loss: loss, learningRate: lr,
                         examplesPerSecond: Double((step + 1) * batch) / max(elapsed, 1e-9),
                         secondsLeft: elapsed / Double(step + 1) * Double(total - step - 1), devAccuracy: nil)
}
