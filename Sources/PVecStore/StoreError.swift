import Foundation

/// Everything that can go wrong in the registry: opening it, reading objects, resolving names.
public enum StoreError: Error, Equatable, LocalizedError {
    /// A manifest's JSON is missing a field or holds a bad value.
    case malformedManifest(String)
    /// A manifest of a format version this pvec does not read.
    case unsupportedSchema(found: Int, supported: Int)

    public var errorDescription: String? {
        switch self {
        case .malformedManifest(let why):
            return "malformed manifest: \(why)"
        case .unsupportedSchema(let found, let supported):
            return "manifest schema \(found) is not supported (this pvec reads schema \(supported)); upgrade pvec"
        }
    }
}
