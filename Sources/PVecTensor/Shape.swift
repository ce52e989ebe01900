/// The dimensions of a row-major tensor, outermost first.
///
/// ```swift
/// let s: Shape = [100, 768]   // 100 rows of width 768
/// s.count                     // 76_800
/// ```
public struct Shape: Hashable, Sendable, Codable, CustomStringConvertible, ExpressibleByArrayLiteral {
    public var dims: [Int]

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
