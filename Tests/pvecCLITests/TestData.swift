import Foundation
import PVecTensor

/// Deterministic test tensors, written to files the way a user would bring them.
enum TestData {
    /// A [rows, width] tensor with values from SplitMix64(seed) in [-1, 1).
    static func tensor(rows: Int, width: Int, seed: UInt64) -> Tensor {
        var g = SplitMix64(seed: seed)
        return Tensor(shape: [rows, width], scalars: (0..<(rows * width)).map { _ in 2 * g.nextFloat01() - 1 })
    }

    static func npy(_ t: Tensor) -> [UInt8] { NPY.encode(t) }

    static func safetensors(_ t: Tensor, key: String = "prompt") -> [UInt8] { Safetensors.encode([key: t]) }

    /// Reads an exported .npy back.
    static func readNPY(_ path: String) throws -> Tensor {
        try NPY.decode(Array(try Data(contentsOf: URL(fileURLWithPath: path))))
    }

    /// Cosine in Double, as an independent reference.
    static func cosine(_ a: [Float], _ b: [Float]) -> Double {
        var d = 0.0, na = 0.0, nb = 0.0
        for i in 0..<a.count {
            d += Double(a[i]) * Double(b[i])
            na += Double(a[i]) * Double(a[i])
            nb += Double(b[i]) * Double(b[i])
        }
        return d / (na.squareRoot() * nb.squareRoot())
    }
}
