/// The dimensions of a row-major tensor, outermost first.
///
/// ```swift
/// let s: Shape = [100, 768]   // 100 rows of width 768
/// s.count                     // 76_800
/// ```
public struct Shape: Hashable, Sendable, Codable, CustomStringConvertible, ExpressibleByArrayLiteral {
    public var dims: [Int]

    /// The most dimensions a file may declare (numpy's own limit is 64).
    public static let maxRank = 64
    /// The most elements a file or manifest may declare (2^40, 4 TiB of F32): far above any
    /// prompt, and low enough that element counts times 8 never overflow.
    public static let maxCount: Int64 = 1 << 40

    /// Whether dims are non-negative, at most `maxRank` of them, each at most Int32.max, with
    /// a product below `maxCount`: the check to run on dimensions read from outside.
    public static func isPlausible(_ dims: [Int64]) -> Bool {
        guard dims.count <= maxRank else { return false }
        var total: Int64 = 1
        for d in dims {
            guard d >= 0, d <= Int64(Int32.max) else { return false }
            let (p, o) = total.multipliedReportingOverflow(by: d)
            guard !o, p < maxCount else { return false }
            total = p
        }
        return true
    }

    public init(_ dims: [Int]) {
        precondition(dims.allSatisfy { $0 >= 0 }, "Shape dimensions must be non-negative")
        self.dims = dims
    }

    public init(arrayLiteral elements: Int...) { self.init(elements) }

    /// Number of scalars, the product of the dimensions (1 for a scalar shape `[]`).
    public var count: Int { dims.reduce(1, *) }
    public var rank: Int { dims.count }

    /// Rows of the tensor seen as a matrix: all but the last dimension folded together.
    public var rows: Int { dims.count <= 1 ? 1 : dims.dropLast().reduce(1, *) }
    /// Width of the tensor seen as a matrix: the last dimension.
    public var width: Int { dims.last ?? 1 }

    public var description: String { "[" + dims.map(String.init).joined(separator: ", ") + "]" }

    public init(from decoder: Decoder) throws {
        self.dims = try decoder.singleValueContainer().decode([Int].self)
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(dims)
    }
}
