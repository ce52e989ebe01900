import PVecStore
import PVecTensor

extension Registry {
    /// Generates a seeded init from its recipe and stores it; `verify` regenerates it later.
    ///
    /// - Parameters:
    ///   - embeddingTable: the backbone's word-embedding table, needed by `vocab-sample`.
    public func createInit(_ recipe: InitRecipe, backbone: Backbone, name: String?, command: String,
                           embeddingTable: ((Backbone) throws -> Tensor)? = nil) throws -> Stored {
        let r = Recipe(op: "init", params: recipe.params)
        let t = try Derivation.compute(r, parents: [], backbone: backbone, embeddingTable: embeddingTable)
        return try store(t, kind: .`init`, recipe: r, parents: [], backbone: backbone, name: name, command: command)
    }
}
