import Foundation
import PVecTensor

/// A backbone's word-embedding table when its model files are at hand (needed to regenerate
/// `vocab-sample` inits during `verify`).
public enum EmbeddingTables {
    /// A loader that opens the model once, on first use, and serves only the backbone it
    /// matches (same id, width and embedding-table hash).
    ///
    /// - Parameter modelDirectory: the model folder; nil: `$PVEC_MODEL`, else the default cache.
    /// - Throws (from the loader): `ModelError.backboneNotAtHand` for another backbone, or the
    ///   errors of opening the model.
    public static func loader(modelDirectory: String? = nil) -> ((Backbone) throws -> Tensor)? {
        final class Cache: @unchecked Sendable { var encoder: BertEncoder? }
        let cache = Cache()
        return { backbone in
            let enc: BertEncoder
            if let e = cache.encoder {
                enc = e
            } else {
                enc = try BertEncoder(directory: modelDirectory.map { URL(fileURLWithPath: $0) })
                cache.encoder = enc
            }
            guard backbone.isCompatible(with: enc.fingerprint) else {
                throw ModelError.backboneNotAtHand(backbone.description)
            }
            return enc.wordEmbeddings(rows: 0..<enc.vocabularySize)
        }
    }
}
