import PVecAlgebra
import PVecStore
import PVecTensor

extension Registry {
    /// Tensors for read-only analysis: vectors as stored, prompts with a recorded init as their
    /// (in-memory) vector when `asVectors`, otherwise as stored. Never writes.
    public func analysisTensors(_ specs: [String], asVectors: Bool) throws -> [(Operand, Tensor)] {
        try analysisTensors(of: Parallel.map(specs.count) { try operand(specs[$0]) }, asVectors: asVectors)
    }

    /// `analysisTensors` of operands already resolved.
    func analysisTensors(of operands: [Operand], asVectors: Bool) throws -> [(Operand, Tensor)] {
        // Read-only (derived vectors are not stored), so the blobs are read, inflated and
        // hash-checked on every core.
        let pairs: [(Operand, Tensor)] = try Parallel.map(operands.count) { i in
            let o = operands[i]
            if asVectors, o.manifest.kind != .vector {
                let (_, t) = try vectorOperand(o.spec, store: false, command: "")
                return (o, t)
            }
            guard let b = o.manifest.blob else {
                throw OpsError.wrongKind(o.spec, o.manifest.kind, expected: "an artifact with a tensor")
            }
            guard let t = try blob(b)["tensor"] else { throw StoreError.noTensor(o.id) }
            return (o, t)
        }
        _ = try commonBackbone(pairs.map(\.0))
        _ = try commonShape(pairs.map(\.0))
        return pairs
    }

    /// Cosine similarity of the flattened tensors of every pair, as one gemm.
    ///
    /// When every operand is read as stored (no vector derived in memory), the blobs are
    /// decoded straight into the rows of the stacked matrix (`stackedSingleTensors`), with no
    /// tensor per operand; otherwise, or for a blob of another layout, one by one.
    public func cosineMatrix(_ specs: [String], asVectors: Bool, operation: String = "cos --matrix") throws -> Tensor {
        let operands: [Operand] = try Parallel.map(specs.count) { try operand(specs[$0]) }
        let blobs = operands.compactMap(\.manifest.blob)
        if !operands.isEmpty, blobs.count == operands.count,
           !asVectors || operands.allSatisfy({ $0.manifest.kind == .vector }) {
            _ = try commonBackbone(operands)
            let shape = try commonShape(operands)
            if var x = try stackedSingleTensors(blobs, count: shape.count) {
                return try Similarity.cosineMatrix(stacked: &x, n: operands.count, d: shape.count, operation: operation)
            }
        }
        let pairs = try analysisTensors(of: operands, asVectors: asVectors)
        return try Similarity.cosineMatrix(pairs.map(\.1), operation: operation)
    }
}
