/// The rules for ref names and tags.
///
/// `[A-Za-z0-9][A-Za-z0-9._/-]*`, at most 128 characters, no `..`, no `//`, not ending in
/// `/`, `.` or `.lock`. A `team/` prefix namespaces names. `@` is never allowed, since
/// `name@N` selects a version.
public enum RefName {
    public static let maxLength = 128

    /// Throws `StoreError.invalidName` saying which rule `name` breaks.
    public static func validate(_ name: String) throws {
        func bad(_ why: String) -> StoreError { .invalidName(name: name, why: why) }
        let u = Array(name.utf8)
        guard !u.isEmpty else { throw bad("it is empty") }
        guard u.count <= maxLength else { throw bad("it is longer than \(maxLength) characters") }
        if name.contains("@") { throw bad("'@' is reserved for versions (name@2)") }
        func isAlnum(_ c: UInt8) -> Bool {
            (0x30...0x39).contains(c) || (0x41...0x5A).contains(c) || (0x61...0x7A).contains(c)
        }
        guard isAlnum(u[0]) else { throw bad("it must start with a letter or digit") }
        if let c = u.first(where: { !isAlnum($0) && $0 != UInt8(ascii: ".") && $0 != UInt8(ascii: "_") && $0 != UInt8(ascii: "-") && $0 != UInt8(ascii: "/") }) {
            throw bad("character '\(Character(Unicode.Scalar(c)))' is not allowed")
        }
        if name.contains("..") { throw bad("'..' is not allowed") }
        if name.contains("//") { throw bad("'//' is not allowed") }
        if name.contains("/.") || name.contains("/-") || name.contains("/_") {
            throw bad("each part after '/' must start with a letter or digit")
        }
        if name.hasSuffix("/") || name.hasSuffix(".") { throw bad("it must not end in '/' or '.'") }
        if name.hasSuffix(".lock") { throw bad("it must not end in '.lock'") }
    }

    public static func isValid(_ name: String) -> Bool {
        (try? validate(name)) != nil
    }
}
