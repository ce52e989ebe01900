extension BertKernels {
    /// inp: [N] -> out: [N] = x Φ(x) = x/2 (1 + erf(x/√2)), the exact (erf) GELU BERT uses.
    ///
    /// Eight lanes at a time; every element goes through the same operations as the scalar
    /// `erfFloat`, so the lane and tail paths give the same bits.
    static func geluForward(out: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, count: Int) {
        let invSqrt2: Float = 0.70710678118654752
        var i = 0
        while i + 8 <= count {
            let x = load(inp + i)
            let e: Lanes = erfFloat(x * invSqrt2)
            let half: Lanes = 0.5 * x
            store(half * (1 + e), out + i)
            i += 8
        }
        while i < count {
            let x = inp[i]
            out[i] = 0.5 * x * (1 + erfFloat(x * invSqrt2))
            i += 1
        }
    }

    /// dout: [N] -> dinp: [N] = dout (Φ(x) + x φ(x)), given the forward's inp: [N]. Writes
    /// (does not add): the one gradient that reaches the FFN hidden layer.
    static func geluBackward(dinp: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>,
                             dout: UnsafePointer<Float>, count: Int) {
        let invSqrt2: Float = 0.70710678118654752
        let invSqrt2Pi: Float = 0.39894228040143268
        var i = 0
        while i + 8 <= count {
            let x = load(inp + i)
            let e: Lanes = erfFloat(x * invSqrt2)
            let cdf: Lanes = 0.5 * (1 + e)
            let sq: Lanes = -0.5 * x * x
            let pdf: Lanes = invSqrt2Pi * expNonPositive(sq)
            let slope: Lanes = cdf + x * pdf
            store(load(dout + i) * slope, dinp + i)
            i += 8
        }
        while i < count {
            let x = inp[i]
            let cdf = 0.5 * (1 + erfFloat(x * invSqrt2))
            let pdf = invSqrt2Pi * expNonPositive(-0.5 * x * x)
            dinp[i] = dout[i] * (cdf + x * pdf)
            i += 1
        }
    }

    // MARK: - Vectorisable erf and exp

    // libm's erff is a call per element and took a quarter of the forward pass (perf, on
    // MiniLM with batch 16 × 84 positions). These two are straight-line arithmetic, written
    // once for a scalar and once for eight lanes (the same operations in the same order).
    // Their coefficients were fitted for pvec by iteratively reweighted least squares in
    // float64 against math.erf and 2**f; the tests check the error bounds below against libm.

    /// erf(x) within 4e-7 absolute: x P(x²) / Q(x²) on |x| <= 4, clamped beyond (where erf
    /// rounds to ±1 in Float32). Q has positive coefficients, so it never vanishes.
    @inline(__always)
    static func erfFloat(_ x: Float) -> Float {
        let z = min(max(x, -4), 4)
        let s = z * z
        var p: Float = 1.97457784e-06
        p = p * s + 2.88031462e-04
        p = p * s + 4.00387654e-03
        p = p * s + 5.34681402e-02
        p = p * s + 1.96256412e-01
        p = p * s + 1.12837898
        var q: Float = 3.74777136e-05
        q = q * s + 1.2163874e-03
        q = q * s + 1.54448971e-02
        q = q * s + 1.16479206e-01
        q = q * s + 5.07258877e-01
        q = q * s + 1
        return z * p / q
    }

    /// `erfFloat` on eight lanes.
    @inline(__always)
    static func erfFloat(_ x: Lanes) -> Lanes {
        let z = pointwiseMin(pointwiseMax(x, Lanes(repeating: -4)), Lanes(repeating: 4))
        let s = z * z
        var p = Lanes(repeating: 1.97457784e-06)
        p = p * s + 2.88031462e-04
        p = p * s + 4.00387654e-03
        p = p * s + 5.34681402e-02
        p = p * s + 1.96256412e-01
        p = p * s + 1.12837898
        var q = Lanes(repeating: 3.74777136e-05)
        q = q * s + 1.2163874e-03
        q = q * s + 1.54448971e-02
        q = q * s + 1.16479206e-01
        q = q * s + 5.07258877e-01
        q = q * s + 1
        return z * p / q
    }

    /// eˣ for x <= 0 within 6e-7 relative (the rounding of x log₂e dominates), and 2⁻¹²⁶
    /// below -87: 2ⁿ · 2ᶠ with n = round(x log₂e), 2ᶠ (|f| <= 1/2) a degree-6 polynomial,
    /// and 2ⁿ built from its exponent bits.
    @inline(__always)
    static func expNonPositive(_ x: Float) -> Float {
        let t = max(x * 1.44269504, -126)
        // Adding 1.5·2²³ rounds t to an integer held in the low mantissa bits.
        let shifted = t + 12_582_912
        let n = shifted - 12_582_912
        let f = t - n
        var p: Float = 1.5465318e-04
        p = p * f + 1.33952854e-03
        p = p * f + 9.61803993e-03
        p = p * f + 5.55034067e-02
        p = p * f + 2.40226511e-01
        p = p * f + 6.93147200e-01
        p = p * f + 1
        let bits = (shifted.bitPattern &- 0x4B40_0000 &+ 127) << 23
        return p * Float(bitPattern: bits)
    }

    /// `expNonPositive` on eight lanes.
    @inline(__always)
    static func expNonPositive(_ x: Lanes) -> Lanes {
        let t = pointwiseMax(x * 1.44269504, Lanes(repeating: -126))
        let shifted = t + 12_582_912
        let n = shifted - 12_582_912
        let f = t - n
        var p = Lanes(repeating: 1.5465318e-04)
        p = p * f + 1.33952854e-03
        p = p * f + 9.61803993e-03
        p = p * f + 5.55034067e-02
        p = p * f + 2.40226511e-01
        p = p * f + 6.93147200e-01
        p = p * f + 1
        let raw = unsafeBitCast(shifted, to: SIMD8<UInt32>.self)
        let bits = (raw &- 0x4B40_0000 &+ 127) &<< 23
        return p * unsafeBitCast(bits, to: Lanes.self)
    }
}
