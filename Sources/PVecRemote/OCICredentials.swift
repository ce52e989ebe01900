import Foundation
import PVecStore

/// Registry credentials where users already keep them: the `auths` entries of Docker's
/// `config.json` (in `$DOCKER_CONFIG`, else `~/.docker`).
///
/// Only inline entries (`"auth": base64("user:password")`, or `username` and `password`) are
/// read; credential helpers (`credsStore`, `credHelpers`) are not run.
public enum OCICredentials {
    /// A username and password.
    public struct Login: Sendable, Equatable {
        public var username: String
        public var password: String

        public init(username: String, password: String) {
            self.username = username
            self.password = password
        }

        /// The value of a basic `Authorization` header.
        var basic: String { Data("\(username):\(password)".utf8).base64EncodedString() }
    }

    /// The Docker config file read for credentials.
    public static var configFile: URL {
        let env = ProcessInfo.processInfo.environment
        let dir = env["DOCKER_CONFIG"].map { URL(fileURLWithPath: $0) }
            ?? FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".docker")
        return dir.appendingPathComponent("config.json")
    }

    /// The login for `host` (`HOST[:PORT]`), nil when there is none.
    public static func login(for host: String) -> Login? {
        guard let data = FileManager.default.contents(atPath: configFile.path), data.count <= 1 << 20,
              let v = try? JSONValue.parse(data), let auths = v["auths"]?.objectValue else { return nil }
        for key in [host, "https://\(host)", "http://\(host)", "https://\(host)/v2/", "http://\(host)/v2/"] {
            guard let e = auths[key] else { continue }
            if let auth = e["auth"]?.stringValue, let raw = Data(base64Encoded: auth), let text = String(data: raw, encoding: .utf8),
               let colon = text.firstIndex(of: ":") {
                return Login(username: String(text[..<colon]), password: String(text[text.index(after: colon)...]))
            }
            if let u = e["username"]?.stringValue, let p = e["password"]?.stringValue { return Login(username: u, password: p) }
        }
        return nil
    }
}
