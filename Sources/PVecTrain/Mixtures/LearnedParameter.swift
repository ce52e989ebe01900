import PVecTensor

/// A trained tensor of a run, with its gradient buffer, its AdamW state and its own peak
/// learning rate (the composition methods train groups at different rates).
struct LearnedParameter {
    var name: String
    var value: Tensor
    /// dL/dvalue, same count; cleared by `zeroGrad`, added into by backward passes.
    var grad: [Float]
    var adam: AdamW
    var learningRate: Float
    /// The step is `learningRate · schedule · unit`: prompt tuning keeps its rate in
    /// embedding-RMS units and multiplies by the RMS last (the composition methods fold it into
    /// `learningRate`); the order of the products is part of the recorded runs' bits.
    var unit: Float

    init(_ name: String, _ value: Tensor, learningRate: Float, weightDecay: Float, unit: Float = 1) {
        self.name = name
        self.value = value
        self.grad = [Float](repeating: 0, count: value.count)
        self.adam = AdamW(count: value.count, weightDecay: weightDecay)
        self.learningRate = learningRate
        self.unit = unit
    }

    mutating func zeroGrad() {
        for i in grad.indices { grad[i] = 0 }
    }

    /// One AdamW update at `learningRate · schedule · unit`, after scaling the gradient by `clip`.
    mutating func step(schedule: Float, clip: Float = 1) {
        var g = Tensor(shape: value.shape, scalars: grad)
        if clip != 1 { g.scal(clip) }
        adam.step(&value, grad: g, lr: learningRate * schedule * unit)
    }
}

extension Array where Element == LearnedParameter {
    /// The factor that clips the global gradient norm to `maxNorm` (1 when below, or when 0).
    func clipFactor(maxNorm: Float, norm kind: GradientNorm = .double) -> Float {
        guard maxNorm > 0 else { return 1 }
        let norm: Float
        switch kind {
        case .double:
            norm = MixKernels.globalNorm(map(\.grad))
        case .blas:
            let norms = map { Tensor(shape: [$0.grad.count], scalars: $0.grad).norm }
            norm = norms.count == 1 ? norms[0] : MixKernels.globalNorm([norms])
        }
        return norm > maxNorm ? maxNorm / norm : 1
    }

    mutating func zeroGrad() {
        for i in indices { self[i].zeroGrad() }
    }

    /// Steps every parameter after clipping the global gradient norm (`maxNorm` 0: no clipping).
    mutating func step(schedule: Float, maxNorm: Float, norm: GradientNorm = .double) {
        let c = clipFactor(maxNorm: maxNorm, norm: norm)
        for i in indices { self[i].step(schedule: schedule, clip: c) }
    }
}
