import PVecStore

/// The recipe of a task prompt vector (op `vector`, no parameters): tuned − init, from the
/// parents `tuned` and `init` (Belanec et al. 2024).
public struct VectorRecipe: TypedRecipe {
    /// The op name recorded in manifests: `vector`.
    public static let op = "vector"

    /// The task-vector recipe; it has no parameters.
    public init() {}

    /// None: the `tuned` and `init` parent roles say everything.
    public var params: [String: JSONValue] { [:] }

    /// Reads a recorded `vector` recipe; it has no parameters to read.
    public init(params: [String: JSONValue]) throws {}
}
