import Foundation
import PVecStore

/// The text of a server token, `pvec_<16 hex id>_<64 hex secret>`, and the `Authorization`
/// header that carries it.
///
/// ```swift
/// let text = BearerToken.text(credential)                        // pvec_3fa9…_91c2…
/// let (id, secret) = BearerToken.parse(header: "bearer " + text)!
/// ```
public enum BearerToken {
    /// The text shown once by `pvec token create`.
    public static func text(_ c: TokenCredential) -> String {
        "pvec_\(c.id)_\(c.secret)"
    }

    /// The id and secret of a token text, or nil when it is not one.
    public static func parse(_ text: String) -> (id: String, secret: String)? {
        let parts = text.split(separator: "_", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == "pvec", parts[1].utf8.count == 16, parts[2].utf8.count == 64 else { return nil }
        return (String(parts[1]), String(parts[2]))
    }

    /// The token of an `Authorization` value: the scheme `Bearer` in any case (RFC 7235), one
    /// or more spaces or tabs, then the token.
    public static func parse(header: String) -> (id: String, secret: String)? {
        guard let space = header.firstIndex(where: { $0 == " " || $0 == "\t" }) else { return nil }
        guard header[..<space].lowercased() == "bearer" else { return nil }
        return parse(header[space...].trimmingCharacters(in: CharacterSet(charactersIn: " \t")))
    }
}
