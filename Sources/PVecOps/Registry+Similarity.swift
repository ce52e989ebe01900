import PVecAlgebra
import PVecStore
import PVecTensor

extension Registry {
    /// Tensors for read-only analysis: vectors as stored, prompts with a recorded init as their
    /// (in-memory) vector when `asVectors`, otherwise as stored. Never writes.
    public func analysisTensors(_ specs: [String], asVectors: Bool) throws -> [(Operand, Tensor)] {
        // Read-only (derived vectors are not stored), so the blobs are read, inflated and
        // hash-checked on every core.
        let pairs: [(Operand, Tensor)] = try Parallel.map(specs.count) { i in
            let spec = specs[i]
            let o = try operand(spec)
            if asVectors, o.manifest.kind != .vector {
                let (_, t) = try vectorOperand(spec, store: false, command: "")
                return (o, t)
            }
            guard let b = o.manifest.blob else {
                throw OpsError.wrongKind(spec, o.manifest.kind, expected: "an artifact with a tensor")
            }
            guard let t = try blob(b)["tensor"] else { throw StoreError.noTensor(o.id) }
            return (o, t)
        }
        _ = try commonBackbone(pairs.map(\.0))
        _ = try commonShape(pairs.map(\.0))
        return pairs
    }

    /// Cosine similarity of the flattened tensors of every pair, as one gemm.
    public func cosineMatrix(_ specs: [String], asVectors: Bool, operation: String = "cos --matrix") throws -> Tensor {
        let pairs = try analysisTensors(specs, asVectors: asVectors)
        return try Similarity.cosineMatrix(pairs.map(\.1), operation: operation)
    }
}
