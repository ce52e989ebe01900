/// SplitMix64 (Steele, Lea, Flood 2014): pvec's specified, portable PRNG.
///
/// Every seeded recipe (inits, shuffles, DARE masks) draws from this generator so the same
/// seed gives the same bits on any machine. The derived draws are specified here too:
/// - `nextFloat01()`: the top 24 bits of `next()` times 2⁻²⁴, in [0, 1).
/// - `nextBelow(n)`: Lemire's multiply-shift with rejection, unbiased, in [0, n).
public struct SplitMix64: RandomNumberGenerator, Sendable {
    @usableFromInline internal(set) var state: UInt64
    public var currentState: UInt64 { state }

    public init(seed: UInt64) { state = seed }

    @inlinable
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A Float uniformly drawn from [0, 1) with 24 bits of resolution.
    @inlinable
    public mutating func nextFloat01() -> Float {
        Float(next() >> 40) * 0x1p-24
    }

    /// An integer uniformly drawn from [0, n), n > 0.
    @inlinable
    public mutating func nextBelow(_ n: UInt64) -> UInt64 {
        precondition(n > 0, "nextBelow needs n > 0")
        var m = next().multipliedFullWidth(by: n)
        if m.low < n {
            let threshold = (0 &- n) % n
            while m.low < threshold { m = next().multipliedFullWidth(by: n) }
        }
        return m.high
    }
}
