import Foundation
import PVecTensor

extension Merge {
    /// Spherical linear interpolation of two flattened tensors (Shoemake 1985, "Animating
    /// Rotation with Quaternion Curves"), as used for model merging.
    ///
    /// Exactly: dot, ‖a‖² and ‖b‖² are summed in Double over j in row-major order (products
    /// of Floats are exact in Double). cos Ω = dot / (‖a‖ ‖b‖). When either norm is 0 or
    /// |cos Ω| > 0.9995 the result is the lerp (1 − t) a_j + t b_j with both coefficients in
    /// Float. Otherwise Ω = acos(cos Ω) and the coefficients c_a = sin((1 − t)Ω) / sin Ω,
    /// c_b = sin(tΩ) / sin Ω are computed in Double, rounded to Float, and the result is
    /// c_a a_j + c_b b_j in Float (two products, one sum). Only acos and sin come from the
    /// platform's libm; a last-bit difference there reaches the Float coefficients with
    /// probability about 2⁻²⁹.
    ///
    /// - Parameter t: 0 gives a, 1 gives b.
    /// - Throws: `AlgebraError.shapeMismatch`, `.invalidParameter` for a non-finite t,
    ///   `.nonFinite` for NaN or infinity in an operand.
    public static func slerp(_ a: Tensor, _ b: Tensor, t: Float) throws -> Tensor {
        let shape = try commonShape([a, b], "merge slerp")
        try requireFiniteParameter(t, "t", "merge slerp")
        try requireFinite([a, b], "merge slerp")
        var dot = 0.0, aa = 0.0, bb = 0.0
        a.scalars.withUnsafeBufferPointer { ab in
            b.scalars.withUnsafeBufferPointer { bb_ in
                for j in 0..<ab.count {
                    let x = Double(ab[j]), y = Double(bb_[j])
                    dot += x * y
                    aa += x * x
                    bb += y * y
                }
            }
        }
        let ca: Float, cb: Float
        let cosine = (aa == 0 || bb == 0) ? 1 : dot / (aa.squareRoot() * bb.squareRoot())
        if abs(cosine) > 0.9995 {
            ca = 1 - t
            cb = t
        } else {
            let omega = acos(min(1, max(-1, cosine)))
            let s = sin(omega)
            ca = Float(sin((1 - Double(t)) * omega) / s)
            cb = Float(sin(Double(t) * omega) / s)
        }
        var out = [Float](repeating: 0, count: shape.count)
        a.scalars.withUnsafeBufferPointer { ab in
            b.scalars.withUnsafeBufferPointer { bbuf in
                out.withUnsafeMutableBufferPointer { ob in
                    for j in 0..<ob.count {
                        let p = ca * ab[j]
                        let q = cb * bbuf[j]
                        ob[j] = p + q
                    }
                }
            }
        }
        return Tensor(shape: shape, scalars: out)
    }
}
