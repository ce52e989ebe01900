import Foundation

/// Everything that can go wrong in the registry: opening it, reading objects, resolving names.
public enum StoreError: Error, Equatable, LocalizedError {
    /// A manifest's JSON is missing a field or holds a bad value.
    case malformedManifest(String)
    /// A recipe whose op no recipe type knows, or whose parameters are missing or malformed.
    case malformedRecipe(op: String, reason: String)
    /// A manifest of a format version this pvec does not read.
    case unsupportedSchema(found: Int, supported: Int)
    /// The directory holds no registry (no `pvec-registry` marker file).
    case notARegistry(path: String)
    /// The registry (or one of its folders) cannot be written: permissions, a read-only
    /// file system, or a file where a folder should be.
    case notWritable(path: String, reason: String)
    /// An I/O call failed for another reason (disk full, too many open files...).
    case ioFailure(path: String, reason: String)
    /// No name, id, id prefix or tag matches the spec.
    case unknownName(String)
    /// An id prefix that matches several artifacts; `candidates` describe each one.
    case ambiguousPrefix(prefix: String, candidates: [String])
    /// A tag carried by several artifacts, used where one artifact is wanted.
    case ambiguousTag(tag: String, candidates: [String])
    /// `name@N` where the name has fewer than N versions (or N < 1).
    case versionOutOfRange(name: String, requested: Int, latest: Int)
    /// A ref name or tag that breaks the naming rules; `why` says which one.
    case invalidName(name: String, why: String)
    /// A blob or manifest object that should be in the registry is not.
    case missingObject(id: String, what: String)
    /// An object whose bytes no longer hash to its id, or that cannot be decoded.
    case corruptObject(id: String, path: String, reason: String)
    /// A manifest names a parent that is not in the registry.
    case missingParent(child: String, parent: String)
    /// A compare-and-swap ref update found another id than the caller expected.
    case refConflict(name: String, expected: ArtifactID?, actual: ArtifactID?)
    /// The catalog was written by a newer pvec (it has migrations this build does not know).
    case newerSchema(path: String, unknownMigrations: [String])
    /// A read-only open of a registry whose catalog still needs migrations this pvec would apply.
    case schemaUpgradeNeeded(path: String)
    /// The artifact has no tensor (an evaluation), or its blob has no `"tensor"` entry.
    case noTensor(ArtifactID)
    /// The catalog database reported an error.
    case catalog(String)
    /// A PEFT adapter directory or config that pvec cannot read or that contradicts itself.
    case invalidAdapter(path: String, reason: String)
    /// Bytes received for an object (upload, bundle, pull) that do not hash to the id they claim.
    case hashMismatch(id: String, what: String, actual: String)
    /// A public key that is not `ed25519:<base64 of 32 bytes>`.
    case invalidKey(String)
    /// A signature that does not verify against its key and the artifact id.
    case badSignature(artifact: String, key: String)
    /// The registry's marker is there but `catalog.sqlite` is not: names, history and tags
    /// are only in `logs/refs` until the catalog is rebuilt.
    case catalogMissing(path: String)
    /// No server token with that id in this registry.
    case unknownToken(String)
    /// A token holder name that breaks the rules or that a live token already has.
    case tokenHolder(name: String, why: String)

    /// A message that names the object at fault and the fix, where there is one.
    public var errorDescription: String? {
        switch self {
        case .malformedManifest(let why):
            return "malformed manifest: \(why)"
        case .malformedRecipe(let op, let reason):
            return "recipe \(TerminalText.quoted(op)) cannot be read: \(reason); the manifest was written by another pvec or edited"
        case .unsupportedSchema(let found, let supported):
            return "manifest schema \(found) is not supported (this pvec reads schema \(supported)); upgrade pvec"
        case .notARegistry(let path):
            return "\(path) is not a pvec registry; run `pvec init` (or pass --registry / set PVEC_REGISTRY to an existing one)"
        case .notWritable(let path, let reason):
            return "cannot write to the registry at \(path): \(reason); fix the permissions or choose another --registry"
        case .ioFailure(let path, let reason):
            return "I/O error on \(path): \(reason)"
        case .unknownName(let spec):
            return "no name, id, id prefix or tag matches \(TerminalText.quoted(spec)); run `pvec ls` to see what the registry holds"
        case .ambiguousPrefix(let prefix, let candidates):
            return "id prefix \(TerminalText.quoted(prefix)) is ambiguous: it matches \(candidates.count) artifacts: \(TerminalText.escape(candidates.joined(separator: "; "))); type more digits or use a name"
        case .ambiguousTag(let tag, let candidates):
            return "tag \(TerminalText.quoted(tag)) is on \(candidates.count) artifacts: \(TerminalText.escape(candidates.joined(separator: "; "))); use a name or an id instead"
        case .versionOutOfRange(let name, let requested, let latest):
            return "\(TerminalText.quoted(name)) has versions 1...\(latest), there is no \(TerminalText.clipped(name))@\(requested); run `pvec log` to see its history"
        case .invalidName(let name, let why):
            return "invalid name \(TerminalText.quoted(name)): \(why); names look like `mnli` or `team/mnli-v2` (letters, digits, . _ - /, at most 128 bytes)"
        case .missingObject(let id, let what):
            return "\(what) \(id) is not in the registry; import or re-create it, or run `pvec verify` to list what is missing"
        case .corruptObject(let id, let path, let reason):
            return "object \(id) at \(path) is corrupt (\(reason)); restore it from a backup or re-import it, then run `pvec verify`"
        case .missingParent(let child, let parent):
            return "artifact \(child) names parent \(parent), which is not in the registry; write the parent first"
        case .refConflict(let name, let expected, let actual):
            let e = expected.map(\.short) ?? "(no ref)", a = actual.map(\.short) ?? "(no ref)"
            return "\(TerminalText.quoted(name)) was expected at \(e) but is at \(a): someone else updated it; re-read it and try again"
        case .newerSchema(let path, let unknown):
            return "the registry at \(path) was written by a newer pvec (catalog migrations \(unknown.joined(separator: ", ")) are unknown here); upgrade pvec"
        case .schemaUpgradeNeeded(let path):
            return "the registry at \(path) was made by an older pvec and needs a catalog upgrade; run any writing command (e.g. `pvec init`) once"
        case .noTensor(let id):
            return "artifact \(id.short) has no tensor (it is an evaluation or its blob has no \"tensor\" entry); use `pvec show` to see what it is"
        case .catalog(let message):
            return "catalog error: \(TerminalText.escape(message)); run `pvec verify` and, if it reports problems, `pvec verify --repair`"
        case .invalidAdapter(let path, let reason):
            return "cannot use PEFT adapter \(TerminalText.escape(path)): \(TerminalText.escape(reason))"
        case .hashMismatch(let id, let what, let actual):
            let found = actual.count == 64 ? "bytes that hash to \(actual.prefix(12))" : "bytes that are \(actual)"
            return "\(what) \(id.prefix(12)) was received with \(found); it was refused, nothing was stored"
        case .invalidKey(let key):
            return "\(TerminalText.quoted(key)) is not a pvec public key; expected ed25519:<base64> as printed by `pvec key generate`"
        case .badSignature(let artifact, let key):
            return "the signature by \(key.prefix(24))… on \(artifact.prefix(12)) does not verify; the manifest or the signature was altered"
        case .catalogMissing(let path):
            return "the catalog of the registry at \(path) is missing; run `pvec verify --repair` to rebuild it from objects and logs/refs"
        case .unknownToken(let id):
            return "no token with id \(TerminalText.quoted(id, limit: 20)) in this registry; run `pvec token list` to see the ids"
        case .tokenHolder(let name, let why):
            return "cannot create a token for holder \(TerminalText.quoted(name)): \(why)"
        }
    }
}
