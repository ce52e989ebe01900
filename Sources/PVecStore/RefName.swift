/// The rules for ref names and tags.
///
/// `[A-Za-z0-9][A-Za-z0-9._/-]*`, at most 128 characters, no `..`, no `//`, not ending in
/// `/`, `.` or `.lock`, and not 4 or more hex digits alone (that would look like an id or
/// id prefix, and ids always win). A `team/` prefix namespaces names. `@` is never allowed,
/// since `name@N` selects a version.
public enum RefName {
    /// The longest name accepted, in UTF-8 bytes.
    public static let maxLength = 128

    /// Throws `StoreError.invalidName` saying which rule `name` breaks.
    public static func validate(_ name: String) throws {
        func bad(_ why: String) -> StoreError { .invalidName(name: name, why: why) }
        let u = Array(name.utf8)
        guard !u.isEmpty else { throw bad("it is empty") }
        guard u.count <= maxLength else { throw bad("it is longer than \(maxLength) bytes") }
        if name.contains("@") { throw bad("'@' is reserved for versions (name@2)") }
        func isAlnum(_ c: Unicode.Scalar) -> Bool {
            ("0"..."9").contains(c) || ("A"..."Z").contains(c) || ("a"..."z").contains(c)
        }
        let scalars = Array(name.unicodeScalars)
        guard isAlnum(scalars[0]) else { throw bad("it must start with a letter or digit") }
        if let c = scalars.first(where: { !isAlnum($0) && !".-_/".unicodeScalars.contains($0) }) {
            throw bad("character \(TerminalText.describe(c)) is not allowed (letters, digits, '.', '_', '-', '/')")
        }
        if u.count >= 4, u.allSatisfy({ (0x30...0x39).contains($0) || (0x61...0x66).contains($0) || (0x41...0x46).contains($0) }) {
            throw bad("4 or more hex digits alone look like an artifact id; add a letter outside a-f (as in v\(name.prefix(8)))")
        }
        if name.contains("..") { throw bad("'..' is not allowed") }
        if name.contains("//") { throw bad("'//' is not allowed") }
        if name.contains("/.") || name.contains("/-") || name.contains("/_") {
            throw bad("each part after '/' must start with a letter or digit")
        }
        if name.hasSuffix("/") || name.hasSuffix(".") { throw bad("it must not end in '/' or '.'") }
        if name.hasSuffix(".lock") { throw bad("it must not end in '.lock'") }
    }

    /// Whether a spec reads as an artifact id or id prefix: 4 to 64 hex digits, either case.
    public static func looksLikeID(_ spec: String) -> Bool {
        let u = spec.utf8
        return u.count >= 4 && u.count <= 64 && u.allSatisfy {
            (0x30...0x39).contains($0) || (0x61...0x66).contains($0) || (0x41...0x46).contains($0)
        }
    }

    /// True when `validate` accepts `name`.
    public static func isValid(_ name: String) -> Bool {
        (try? validate(name)) != nil
    }
}
