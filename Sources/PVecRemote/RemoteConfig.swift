import Foundation
import PVecStore

/// The remotes of a registry, kept in `<registry>/remotes.json`:
/// `{"<name>": {"url": ..., "token_file": ..., "tracking": {"<ref>": "<id>"}}}`.
///
/// `tracking` holds, per name, the id the server had when this registry last pushed or pulled
/// it: a push expects the server to still be there (compare-and-swap), as git's
/// remote-tracking refs do.
public struct RemoteConfig: Sendable {
    public struct Remote: Sendable, Equatable {
        public var url: URL
        public var tokenFile: String?
        public var tracking: [String: ArtifactID]

        public init(url: URL, tokenFile: String?, tracking: [String: ArtifactID]) {
            self.url = url
            self.tokenFile = tokenFile
            self.tracking = tracking
        }
    }

    public var remotes: [String: Remote]
    let file: URL

    public static func load(for registry: Registry) throws -> RemoteConfig {
        let file = registry.root.appendingPathComponent("remotes.json")
        var remotes: [String: Remote] = [:]
        if let data = FileManager.default.contents(atPath: file.path) {
            let v = try JSONValue.parse(data)
            for (name, r) in v.objectValue ?? [:] {
                guard let u = r["url"]?.stringValue, let url = URL(string: u) else { continue }
                var tracking: [String: ArtifactID] = [:]
                for (k, id) in r["tracking"]?.objectValue ?? [:] { tracking[k] = id.stringValue.flatMap(ArtifactID.init) }
                remotes[name] = Remote(url: url, tokenFile: r["token_file"]?.stringValue, tracking: tracking)
            }
        }
        return RemoteConfig(remotes: remotes, file: file)
    }

    public func save() throws {
        var o: [String: JSONValue] = [:]
        for (name, r) in remotes {
            var e: [String: JSONValue] = ["url": .string(r.url.absoluteString),
                                          "tracking": .object(r.tracking.mapValues { .string($0.hex) })]
            if let t = r.tokenFile { e["token_file"] = .string(t) }
            o[name] = .object(e)
        }
        try Data(JSONValue.object(o).canonicalBytes + [0x0A]).write(to: file, options: .atomic)
    }

    public func remote(_ name: String) throws -> Remote {
        guard let r = remotes[name] else { throw RemoteError.unknownRemote(name) }
        return r
    }

    /// A client for the remote, with its token read from the token file.
    public func client(_ name: String) throws -> RemoteClient {
        let r = try remote(name)
        return RemoteClient(base: r.url, token: try r.tokenFile.map(Self.readToken))
    }

    public static func readToken(_ path: String) throws -> String {
        do {
            return try String(contentsOfFile: path, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        } catch {
            throw RemoteError.tokenFile(path: path, reason: error.localizedDescription)
        }
    }
}
