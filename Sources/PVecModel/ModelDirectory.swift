import Foundation
import PVecTensor

/// Where a backbone's files live, and the check that they are the published ones.
///
/// Lookup order: an explicit directory (`--model DIR`), then `$PVEC_MODEL`, then
/// `$PVEC_MODEL_CACHE/all-MiniLM-L6-v2` (the root `scripts/fetch-model` also honours),
/// then `~/.cache/pvec/models/all-MiniLM-L6-v2`. An explicit or `$PVEC_MODEL` directory
/// that lacks the model is an error, not a reason to fall back silently.
///
/// ```swift
/// let dir = try ModelDirectory.locate()
/// let encoder = try BertEncoder(directory: dir)
/// ```
public struct ModelDirectory: Sendable, Equatable {
    public let url: URL

    public init(url: URL) { self.url = url }

    /// The folder name under the model cache.
    public static let defaultName = "all-MiniLM-L6-v2"
    /// SHA-256 of all-MiniLM-L6-v2's model.safetensors (F32), as `scripts/fetch-model` checks it.
    public static let miniLML6SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"

    /// SHA-256 of the canonical encoding of that file's word-embedding table (the backbone
    /// fingerprint): a verified file needs no re-encoding of 47 MB to know it.
    public static let miniLML6EmbeddingSHA256 = "2d88fbb720a4ea9493fe6da3b24ef22b81a17766d91e09c0fc04f0b1e63f68fd"

    public var weightsURL: URL { url.appendingPathComponent("model.safetensors") }
    public var vocabularyURL: URL { url.appendingPathComponent("vocab.txt") }
    public var configURL: URL { url.appendingPathComponent("config.json") }

    /// Finds the model directory.
    ///
    /// - Parameters:
    ///   - explicit: a directory the user named; it wins over everything else.
    ///   - environment: the process environment (a parameter so tests can pass their own).
    /// - Throws: `ModelError.modelNotFound` naming the places searched.
    public static func locate(explicit: URL? = nil,
                              environment: [String: String] = ProcessInfo.processInfo.environment) throws -> ModelDirectory {
        var candidates: [URL] = []
        if let explicit {
            candidates = [explicit]
        } else if let env = environment["PVEC_MODEL"], !env.isEmpty {
            candidates = [URL(fileURLWithPath: env)]
        } else {
            if let cache = environment["PVEC_MODEL_CACHE"], !cache.isEmpty {
                candidates.append(URL(fileURLWithPath: cache).appendingPathComponent(defaultName))
            }
            let home = environment["HOME"].map { URL(fileURLWithPath: $0) }
                ?? FileManager.default.homeDirectoryForCurrentUser
            candidates.append(home.appendingPathComponent(".cache/pvec/models").appendingPathComponent(defaultName))
        }
        for dir in candidates {
            let d = ModelDirectory(url: dir)
            if FileManager.default.fileExists(atPath: d.weightsURL.path) { return d }
        }
        throw ModelError.modelNotFound(searched: candidates.map(\.path))
    }

    /// Reads model.safetensors and checks its SHA-256 against `expectedSHA256` (nil: no check).
    ///
    /// Hashing the 90 MB file costs well under a second (measured ~0.25 s), less than parsing
    /// it, so the hash is computed on every load rather than cached in a sidecar.
    ///
    /// - Throws: `ModelError.missingFile`, `.checksumMismatch`.
    func readWeights(expectedSHA256: String?) throws -> [UInt8] {
        guard let data = try? Data(contentsOf: weightsURL, options: .mappedIfSafe) else {
            throw ModelError.missingFile(path: weightsURL.path)
        }
        if let expectedSHA256 {
            let actual = Digest.sha256Hex(data)
            guard actual == expectedSHA256 else {
                throw ModelError.checksumMismatch(path: weightsURL.path, expected: expectedSHA256, actual: actual)
            }
        }
        return [UInt8](data)
    }
}
