import PVecStore

/// Every recipe type PVecOps writes or reads, one per op.
///
/// ```swift
/// let decoder = RecipeDecoder(OpsRecipes.all)
/// if case let r as MergeRecipe = try decoder.decode(manifest.recipe) { print(r.method) }
/// ```
public enum OpsRecipes {
    /// `import`, `vector`, `add`, `sub`, `neg`, `scale`, `init`, `merge` and `spot`.
    public static let all: [any TypedRecipe.Type] = [
        ImportRecipe.self, VectorRecipe.self, AddRecipe.self, SubRecipe.self, NegRecipe.self,
        ScaleRecipe.self, InitRecipe.self, MergeRecipe.self, SpotRecipe.self, ComposeRecipe.self,
    ]
}

extension RecipeField {
    /// Checks a seeded recipe's `prng`: `splitmix64`, the only generator pvec records, or absent
    /// (read as splitmix64).
    ///
    /// - Throws: `StoreError.malformedRecipe` naming `prng`.
    static func checkSplitMix64(_ p: [String: JSONValue], op: String) throws {
        if let prng = try optional(p, "prng", op: op, string), prng != "splitmix64" {
            throw StoreError.malformedRecipe(op: op, reason: "parameter 'prng' is \(TerminalText.quoted(prng)), not splitmix64")
        }
    }
}
