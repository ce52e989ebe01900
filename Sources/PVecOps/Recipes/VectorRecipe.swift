import PVecStore

/// The recipe of a task prompt vector (op `vector`, no parameters): tuned − init, from the
/// parents `tuned` and `init` (Belanec et al. 2024).
public struct VectorRecipe: TypedRecipe {
    public static let op = "vector"

    public init() {}

    public var params: [String: JSONValue] { [:] }

    /// Reads a recorded `vector` recipe; it has no parameters to read.
    public init(params: [String: JSONValue]) throws {}
}
