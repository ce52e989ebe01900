/// A dense Float32 tensor in row-major order.
///
/// Storage is a Swift array, so tensors are values: copies are cheap until written.
///
/// ```swift
/// var t = Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])
/// t[1, 2]           // 6
/// ```
public struct Tensor: Equatable, Sendable {
    public private(set) var shape: Shape
    public var scalars: [Float] {
        didSet { precondition(scalars.count == shape.count, "scalar count must match shape") }
    }

    /// Creates a tensor from scalars in row-major order.
    ///
    /// - Precondition: `scalars.count == shape.count`.
    public init(shape: Shape, scalars: [Float]) {
        precondition(scalars.count == shape.count,
                     "Tensor(shape: \(shape)) needs \(shape.count) scalars, got \(scalars.count)")
        self.shape = shape
        self.scalars = scalars
    }

    /// A tensor of zeros.
    public init(zeros shape: Shape) {
        self.init(shape: shape, scalars: [Float](repeating: 0, count: shape.count))
    }

    public var count: Int { scalars.count }

    public subscript(row: Int, column: Int) -> Float {
        get { scalars[row * shape.width + column] }
        set { scalars[row * shape.width + column] = newValue }
    }

    /// The same scalars under another shape with the same count.
    public func reshaped(_ newShape: Shape) throws -> Tensor {
        guard newShape.count == shape.count else {
            throw TensorError.shapeMismatch("cannot reshape \(shape) to \(newShape)")
        }
        return Tensor(shape: newShape, scalars: scalars)
    }

    /// True when no scalar is NaN or infinite.
    public var isFinite: Bool {
        scalars.withUnsafeBufferPointer { buf in
            for x in buf where !x.isFinite { return false }
            return true
        }
    }

    /// Throws `TensorError.nonFinite` naming `what` if any scalar is NaN or infinite.
    public func checkFinite(_ what: String) throws {
        if !isFinite { throw TensorError.nonFinite(what) }
    }
}
