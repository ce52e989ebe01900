/// Eight-lane loads, stores and sums for the element-wise kernels.
///
/// The loops over a row run 8 (or 16) floats at a time and a scalar tail; a reduction keeps
/// one accumulator per lane and adds the lanes up in one fixed order at the end, so a row's
/// result depends only on its values and its length, never on threads or timing.
typealias Lanes = SIMD8<Float>

extension BertKernels {
    @inline(__always)
    static func load(_ p: UnsafePointer<Float>) -> Lanes {
        UnsafeRawPointer(p).loadUnaligned(as: Lanes.self)
    }

    @inline(__always)
    static func store(_ v: Lanes, _ p: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: Lanes.self)
    }

    /// The lanes added in a fixed order: ((0+4) + (2+6)) + ((1+5) + (3+7)).
    @inline(__always)
    static func total(_ v: Lanes) -> Float {
        let h = v.lowHalf + v.highHalf
        let q = h.lowHalf + h.highHalf
        return q[0] + q[1]
    }

    /// Σ p[i] over `count` floats: two 8-lane accumulators, then the scalar tail.
    @inline(__always)
    static func sum(_ p: UnsafePointer<Float>, count: Int) -> Float {
        var a = Lanes(), b = Lanes()
        var i = 0
        while i + 16 <= count {
            a += load(p + i)
            b += load(p + i + 8)
            i += 16
        }
        if i + 8 <= count {
            a += load(p + i)
            i += 8
        }
        var s = total(a + b)
        while i < count {
            s += p[i]
            i += 1
        }
        return s
    }
}
