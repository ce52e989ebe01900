import Foundation
import PVecStore

/// The remotes of a registry, kept in `<registry>/remotes.json`:
/// `{"<name>": {"url": ..., "token_file": ..., "plain_http": true, "tracking": {"<ref>": "<id>"}}}`.
///
/// `http(s)://` URLs are `pvec serve` servers; `oci://HOST[:PORT]/REPOSITORY` URLs are OCI
/// registries (HTTPS unless `plain_http`), see registry-schema/oci.md.
///
/// `tracking` holds, per name, the id the server had when this registry last pushed or pulled
/// it: a push expects the server to still be there (compare-and-swap), as git's
/// remote-tracking refs do.
public struct RemoteConfig: Sendable {
    public struct Remote: Sendable, Equatable {
        public var url: URL
        public var tokenFile: String?
        public var tracking: [String: ArtifactID]
        /// For an OCI remote: talk HTTP, not HTTPS (loopback and test registries).
        public var plainHTTP: Bool

        public init(url: URL, tokenFile: String?, tracking: [String: ArtifactID], plainHTTP: Bool = false) {
            self.url = url
            self.tokenFile = tokenFile
            self.tracking = tracking
            self.plainHTTP = plainHTTP
        }

        /// True for an `oci://` remote.
        public var isOCI: Bool { url.scheme == "oci" }
    }

    /// `HOST[:PORT]` and the repository of an `oci://HOST[:PORT]/REPOSITORY` URL, nil when it is
    /// not one. Repositories follow the distribution spec: lowercase letters and digits,
    /// separated by `.`, `_`, `__`, `-` runs, in `/`-separated parts.
    public static func ociParts(_ url: URL) -> (host: String, repository: String)? {
        guard url.scheme == "oci", let host = url.host, !host.isEmpty, url.query == nil, url.fragment == nil,
              url.user == nil, url.password == nil else { return nil }
        let repo = String(url.path.drop(while: { $0 == "/" }))
        guard !repo.isEmpty, repo.utf8.count <= 255 else { return nil }
        for part in repo.split(separator: "/", omittingEmptySubsequences: false) {
            let u = Array(part.utf8)
            func alnum(_ c: UInt8) -> Bool { (0x30...0x39).contains(c) || (0x61...0x7A).contains(c) }
            guard let f = u.first, let l = u.last, alnum(f), alnum(l),
                  u.allSatisfy({ alnum($0) || $0 == 0x2E || $0 == 0x5F || $0 == 0x2D }) else { return nil }
        }
        return (url.port.map { "\(host):\($0)" } ?? host, repo)
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
                remotes[name] = Remote(url: url, tokenFile: r["token_file"]?.stringValue, tracking: tracking,
                                       plainHTTP: r["plain_http"]?.boolValue ?? false)
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
            if r.plainHTTP { e["plain_http"] = .bool(true) }
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

    /// A client for an `oci://` remote, with the credentials Docker keeps for its host.
    public func ociClient(_ name: String) throws -> OCIClient {
        let r = try remote(name)
        guard let (host, repo) = Self.ociParts(r.url) else {
            throw RemoteError.unreachable(url: r.url.absoluteString, reason: "not an oci://HOST[:PORT]/REPOSITORY URL")
        }
        return try OCIClient(host: host, repository: repo, plainHTTP: r.plainHTTP, credentials: OCICredentials.login(for: host))
    }

    public static func readToken(_ path: String) throws -> String {
        do {
            return try String(contentsOfFile: path, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        } catch {
            throw RemoteError.tokenFile(path: path, reason: error.localizedDescription)
        }
    }
}
