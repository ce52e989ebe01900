import Foundation
import PVecModel
import PVecTensor

/// Loads a backbone's word-embedding table when its model files are at hand
/// (needed to regenerate `vocab-sample` inits during `verify`).
enum EmbeddingTables {
    /// A loader that opens the model once, on first use, and serves only the backbone it
    /// matches (same id, width and embedding-table hash).
    static func loader(modelDirectory: String? = nil) -> ((Backbone) throws -> Tensor)? {
        final class Cache: @unchecked Sendable { var encoder: BertEncoder? }
        let cache = Cache()
        return { backbone in
            if cache.encoder == nil {
                cache.encoder = try BertEncoder(directory: modelDirectory.map { URL(fileURLWithPath: $0) })
            }
            let enc = cache.encoder!
            guard backbone.isCompatible(with: enc.fingerprint) else {
                throw ProgressError.noModel("no model for backbone \(backbone) is at hand (pass --model DIR)")
            }
            return enc.wordEmbeddings(rows: 0..<enc.vocabularySize)
        }
    }
}

enum ProgressError: Error, LocalizedError {
    case noModel(String)
    var errorDescription: String? {
        switch self { case .noModel(let s): return s }
    }
}
