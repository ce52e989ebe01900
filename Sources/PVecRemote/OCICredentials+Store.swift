import Foundation
#if canImport(Glibc)
import Glibc
#endif
import PVecStore

/// `pvec login` and `pvec logout`: the `auths` entries of Docker's `config.json`, written the
/// way Docker writes them (`"auth": base64("user:password")`), so `docker`, `oras` and
/// `crane` read the same login.
extension OCICredentials {
    /// The largest `config.json` pvec reads or rewrites.
    static let maxConfigBytes = 1 << 20

    /// Checks `login` against the registry (`GET /v2/`) and, if it is accepted, saves it as the
    /// `auths` entry of `host` in `configFile`, keeping the file's other keys.
    ///
    /// Example: `try OCICredentials.logIn(host: "ghcr.io", login: Login(username: "me", password: token), plainHTTP: false)`
    /// - Returns: the file written.
    /// - Throws: `RemoteError.loginRefused` (nothing is saved), `.unreachable`/`.badAnswer`
    ///   when the registry does not answer, `.credentialsFile` when the file cannot be read or
    ///   written.
    @discardableResult
    public static func logIn(host: String, login: Login, plainHTTP: Bool) throws -> URL {
        guard !login.username.isEmpty, !login.username.contains(":") else {
            throw RemoteError.loginRefused(host: host, reason: "a username must be non-empty and hold no ':'")
        }
        try OCIClient.checkLogin(host: host, plainHTTP: plainHTTP, login: login)
        try save(login, for: host)
        return configFile
    }

    /// Removes every `auths` entry of `host` (as `HOST`, `https://HOST`, … are all read).
    ///
    /// - Returns: true when an entry was removed (false: there was none; nothing is written).
    /// - Throws: `RemoteError.credentialsFile`.
    @discardableResult
    public static func logOut(host: String) throws -> Bool {
        var top = try readConfig()
        var auths = top["auths"]?.objectValue ?? [:]
        let keys = lookupKeys(host).filter { auths[$0] != nil }
        guard !keys.isEmpty else { return false }
        for k in keys { auths.removeValue(forKey: k) }
        top["auths"] = .object(auths)
        try writeConfig(top)
        return true
    }

    /// The `auths` keys under which a login for `host` is read.
    static func lookupKeys(_ host: String) -> [String] {
        [host, "https://\(host)", "http://\(host)", "https://\(host)/v2/", "http://\(host)/v2/"]
    }

    /// Sets the `auths` entry of `host` to `login` (other variants of the key are dropped, so
    /// an older login cannot shadow it).
    static func save(_ login: Login, for host: String) throws {
        var top = try readConfig()
        var auths = top["auths"]?.objectValue ?? [:]
        for k in lookupKeys(host) { auths.removeValue(forKey: k) }
        auths[host] = .object(["auth": .string(login.basic)])
        top["auths"] = .object(auths)
        try writeConfig(top)
    }

    /// The file's top-level object (empty when there is no file).
    static func readConfig() throws -> [String: JSONValue] {
        let path = configFile.path
        guard FileManager.default.fileExists(atPath: path) else { return [:] }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw RemoteError.credentialsFile(path: path, reason: "it cannot be read")
        }
        guard data.count <= maxConfigBytes else {
            throw RemoteError.credentialsFile(path: path, reason: "it is larger than \(maxConfigBytes >> 20) MiB")
        }
        if data.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) { return [:] }
        guard let v = try? JSONValue.parse(data), let top = v.objectValue else {
            throw RemoteError.credentialsFile(path: path, reason: "it is not a JSON object; fix or move it, nothing was changed")
        }
        if let auths = top["auths"], auths.objectValue == nil {
            throw RemoteError.credentialsFile(path: path, reason: "its \"auths\" is not an object; fix or move it, nothing was changed")
        }
        return top
    }

    /// Writes the file atomically with mode 0600: a temporary file in the same folder, fsynced,
    /// renamed over the old one, and the folder fsynced. The folder is made (0700) if missing.
    static func writeConfig(_ top: [String: JSONValue]) throws {
        let file = configFile
        let dir = file.deletingLastPathComponent()
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let bytes: [UInt8]
        do {
            bytes = Array(try encoder.encode(JSONValue.object(top))) + [0x0A]
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o700])
        } catch {
            throw RemoteError.credentialsFile(path: file.path, reason: error.localizedDescription)
        }
        let temp = dir.appendingPathComponent(".\(file.lastPathComponent).\(UUID().uuidString).tmp")
        func fail(_ what: String) -> RemoteError {
            let reason = "\(what): \(String(cString: strerror(errno)))"
            unlink(temp.path)
            return RemoteError.credentialsFile(path: file.path, reason: reason)
        }
        let fd = open(temp.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw fail("cannot create \(temp.lastPathComponent)") }
        var written = 0
        while written < bytes.count {
            let n = bytes[written...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if n < 0, errno == EINTR { continue }
            guard n > 0 else { close(fd); throw fail("cannot write") }
            written += n
        }
        // The umask may have narrowed 0600 further, never widened it; make it exactly 0600.
        guard fchmod(fd, 0o600) == 0, fsync(fd) == 0 else { close(fd); throw fail("cannot sync") }
        close(fd)
        guard rename(temp.path, file.path) == 0 else { throw fail("cannot rename into place") }
        let dfd = open(dir.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dfd >= 0 { _ = fsync(dfd); close(dfd) }
    }
}
