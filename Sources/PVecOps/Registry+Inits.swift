import PVecStore
import PVecTensor

extension Registry {
    /// Generates a seeded init from its recipe and stores it; `verify` regenerates it later.
    ///
    /// - Parameters:
    ///   - embeddingTable: the backbone's word-embedding table, needed by `vocab-sample`.
    public func createInit(_ recipe: InitRecipe, backbone: Backbone, name: String?, command: String,
                           embeddingTable: ((Backbone) throws -> Tensor)? = nil) throws -> Stored {
        try RecipeSeed.check(recipe.seed, op: "init")
        let t = try Derivation.compute(recipe, parents: [], backbone: backbone, embeddingTable: embeddingTable)
        return try store(t, kind: .`init`, recipe: recipe.recipe, parents: [], backbone: backbone, name: name, command: command)
    }
}
