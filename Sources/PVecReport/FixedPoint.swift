import Foundation

/// Fast fixed-point text for tables of many numbers (a 200 × 200 cosine matrix is 40,000 cells).
public enum FixedPoint {
    /// The same text as `String(format: "%.4f", x)`. A Float times 10⁴ is exact in Double
    /// (24 + 14 bits < 53), so rounding that product half-to-even gives printf's digits,
    /// including its "-0.0000" for small negatives; non-finite and huge values use printf.
    public static func format4(_ x: Float) -> String {
        let v = (Double(x) * 10_000).rounded(.toNearestOrEven)
        guard v.isFinite, abs(v) < 1e15 else { return String(format: "%.4f", x) }
        let n = Int(abs(v))
        let frac = String(n % 10_000)
        return (x.sign == .minus ? "-" : "") + String(n / 10_000) + "." + String(repeating: "0", count: 4 - frac.count) + frac
    }
}
