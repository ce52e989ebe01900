import Foundation
import PVecStore

/// Everything that can go wrong while publishing: bundles, keys, remotes and the server.
public enum RemoteError: Error, Equatable, LocalizedError {
    /// A bundle file that is truncated, altered or not a bundle; `entry` names the first bad part.
    case badBundle(path: String, entry: String)
    /// An import or pull would move a name that already points elsewhere here.
    case nameTaken(name: String, here: String, incoming: String)
    /// No private key of that name in the key folder.
    case keyNotFound(name: String, folder: String)
    /// `key generate` would overwrite an existing key.
    case keyExists(name: String, path: String)
    /// No remote of that name in this registry.
    case unknownRemote(String)
    /// `remote add` with a name already in use.
    case remoteExists(String)
    /// The server refused a request; `status` is the HTTP status, `message` its explanation.
    case server(url: String, status: Int, message: String)
    /// A compare-and-swap update lost: the name moved on the server since it was last seen.
    case conflict(name: String, message: String)
    /// The server could not be reached, or answered something that is not the pvec API.
    case unreachable(url: String, reason: String)
    /// `--listen` that is not HOST:PORT.
    case invalidListen(String)
    /// A token scope that is neither `read` nor `write:<prefix>`.
    case invalidScope(String)
    /// A token file that cannot be read.
    case tokenFile(path: String, reason: String)
    /// A `--expires` value that is neither a duration nor a date in the future.
    case invalidExpiry(String)
    /// The server's answer was larger than the client accepts (a hostile or broken server).
    case answerTooLarge(url: String, path: String, limit: Int)
    /// A pvec name that cannot be an OCI tag.
    case untaggable(name: String, why: String)
    /// An OCI registry refused the credentials (or asked for some and there are none).
    case unauthorized(host: String, reason: String)
    /// An OCI registry answered something pvec does not accept (wrong digest, not a pvec artifact…).
    case badAnswer(url: String, what: String)
    /// `pvec login`: the registry refused the username and password; nothing was saved.
    case loginRefused(host: String, reason: String)
    /// Docker's `config.json` (credentials) cannot be read or written as it is.
    case credentialsFile(path: String, reason: String)

    public var errorDescription: String? {
        switch self {
        case .badBundle(let path, let entry):
            return "bundle \(path) is refused: \(entry); nothing was imported"
        case .nameTaken(let name, let here, let incoming):
            return "'\(name)' already points at \(here.prefix(12)) here, not at \(incoming.prefix(12)); import under another name with --prefix team/ (or --force)"
        case .keyNotFound(let name, let folder):
            return "no signing key '\(name)' in \(folder); run `pvec key generate --name \(name)` (or set PVEC_KEYS)"
        case .keyExists(let name, let path):
            return "a key named '\(name)' already exists at \(path); choose another --name"
        case .unknownRemote(let name):
            return "no remote named '\(name)'; add one with `pvec remote add \(name) URL`"
        case .remoteExists(let name):
            return "a remote named '\(name)' already exists; pick another name"
        case .server(let url, let status, let message):
            return "the server at \(url) refused the request (HTTP \(status)): \(TerminalText.clipped(message, limit: 300))"
        case .conflict(let name, let message):
            return "'\(name)' moved on the server (\(message)); pull it, check, and push again"
        case .unreachable(let url, let reason):
            return "cannot reach the registry server at \(url): \(reason); check that `pvec serve` runs there"
        case .invalidListen(let text):
            return "'\(text)' is not HOST:PORT; use for example --listen 127.0.0.1:8080 (port 0 picks a free one)"
        case .invalidScope(let text):
            return "\(TerminalText.quoted(text)) is not a scope; use read, write:* or write:<name prefix> where the prefix is a valid name, optionally ending in '/', e.g. --scope write:team-a/ (see `pvec token create --help`)"
        case .tokenFile(let path, let reason):
            return "cannot read the token file \(path): \(reason)"
        case .invalidExpiry(let text):
            return "\(TerminalText.quoted(text)) is not an expiry in the future; use a duration (30d, 12h, 90m, 2w) or an ISO 8601 date (2027-01-31 or 2027-01-31T12:00:00Z)"
        case .answerTooLarge(let url, let path, let limit):
            return "the server at \(url) answered \(path) with more than \(limit >> 20) MiB; refused, nothing was stored (is it a pvec server?)"
        case .untaggable(let name, let why):
            return "\(TerminalText.quoted(name)) cannot be pushed to an OCI registry: \(why); push it under another name"
        case .unauthorized(let host, let reason):
            return "the OCI registry \(host) refused the credentials: \(TerminalText.clipped(reason, limit: 200)); run `pvec login \(host)` (it writes the auths entry for \(host) in $DOCKER_CONFIG/config.json or ~/.docker/config.json)"
        case .badAnswer(let url, let what):
            return "the OCI registry at \(url) sent \(TerminalText.clipped(what, limit: 300)); refused, nothing was stored"
        case .loginRefused(let host, let reason):
            return "the OCI registry \(host) refused the login: \(TerminalText.clipped(reason, limit: 200)); nothing was saved"
        case .credentialsFile(let path, let reason):
            return "cannot update the Docker config \(path): \(TerminalText.clipped(reason, limit: 200))"
        }
    }

}
