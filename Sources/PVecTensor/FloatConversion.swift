/// Bit-level conversions between Float32 and the 16-bit float formats, with
/// round-to-nearest-even on the way down. Written out so behaviour is the same on every platform.
public enum FloatConversion {
    // MARK: - IEEE 754 binary16

    /// Decodes IEEE half-precision bits (subnormals, infinities and NaN included).
    @inlinable
    public static func float(fromHalf h: UInt16) -> Float {
        let sign = UInt32(h & 0x8000) << 16
        let exp = Int((h >> 10) & 0x1F)
        let mant = UInt32(h & 0x3FF)
        if exp == 0 {
            // Zero or subnormal: mant * 2^-24, exact in Float32.
            let v = Float(mant) * 0x1p-24
            return sign != 0 ? -v : v
        }
        if exp == 31 {
            return Float(bitPattern: sign | 0x7F80_0000 | (mant << 13))
        }
        return Float(bitPattern: sign | UInt32(exp - 15 + 127) << 23 | (mant << 13))
    }

    /// Encodes to IEEE half-precision bits, rounding to nearest even; overflow gives ±inf,
    /// NaN stays NaN (quiet).
    @inlinable
    public static func half(from f: Float) -> UInt16 {
        let bits = f.bitPattern
        let sign = UInt16((bits >> 16) & 0x8000)
        let exp = Int((bits >> 23) & 0xFF)
        var mant = bits & 0x7F_FFFF
        if exp == 0xFF {
            return sign | 0x7C00 | (mant != 0 ? 0x200 | UInt16(mant >> 13) : 0)
        }
        let e = exp - 127 + 15
        if e >= 31 { return sign | 0x7C00 }
        if e <= 0 {
            // Subnormal half (or zero): shift the full significand right with RNE.
            if e < -10 { return sign }
            mant |= 0x80_0000
            let shift = UInt32(14 - e)
            let half = mant >> shift
            let rem = mant & ((1 << shift) - 1)
            let mid = UInt32(1) << (shift - 1)
            var r = half
            if rem > mid || (rem == mid && (half & 1) == 1) { r += 1 }
            return sign | UInt16(r)
        }
        var r = UInt32(e) << 10 | (mant >> 13)
        let rem = mant & 0x1FFF
        if rem > 0x1000 || (rem == 0x1000 && (r & 1) == 1) { r += 1 } // may carry into exponent: correct
        return sign | UInt16(r)
    }

    // MARK: - bfloat16

    /// Decodes bfloat16 bits (the top half of a Float32).
    @inlinable
    public static func float(fromBFloat16 b: UInt16) -> Float {
        Float(bitPattern: UInt32(b) << 16)
    }

    /// Encodes to bfloat16 bits, rounding to nearest even; NaN stays NaN.
    @inlinable
    public static func bfloat16(from f: Float) -> UInt16 {
        let bits = f.bitPattern
        if f.isNaN { return UInt16(bits >> 16) | 0x40 }
        let lsb = (bits >> 16) & 1
        let rounded = bits &+ 0x7FFF &+ lsb
        return UInt16(rounded >> 16)
    }
}
