/// A content address: the SHA-256 of an object, as 64 lowercase hex digits.
///
/// `ArtifactID` and `BlobID` share this behaviour but stay distinct types, so a blob id can
/// never be passed where an artifact id is wanted.
public protocol ContentID: Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
    /// The 64 lowercase hex digits of the SHA-256.
    var hex: String { get }
    /// Wraps a full 64-character lowercase hex id; returns nil for anything else.
    init?(_ hex: String)
}

extension ContentID {
    /// The first 12 hex digits, as shown to people.
    public var short: String { String(hex.prefix(12)) }
    /// The full id: 64 lowercase hex digits.
    public var description: String { hex }
    /// Orders by hex text, which for equal-length lowercase hex is the order of the digests' bytes.
    public static func < (a: Self, b: Self) -> Bool { a.hex < b.hex }

    /// Decodes an id from a JSON string.
    ///
    /// - Throws: `DecodingError.dataCorrupted` unless the string is 64 lowercase hex digits.
    public init(from decoder: Decoder) throws {
        let s = try decoder.singleValueContainer().decode(String.self)
        guard let id = Self(s) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "bad \(Self.self) '\(s)'"))
        }
        self = id
    }

    /// Encodes the id as its 64-digit hex string.
    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(hex)
    }
}

/// The SHA-256 (lowercase hex) of an artifact's canonical manifest; immutable.
public struct ArtifactID: ContentID {
    /// The 64 lowercase hex digits of the canonical manifest's SHA-256.
    public let hex: String

    /// Wraps a full 64-digit lowercase hex id; nil for anything else (uppercase, a prefix, a name:
    /// those go through `Registry.resolve`).
    public init?(_ hex: String) {
        guard ObjectID.isValidHex(hex) else { return nil }
        self.hex = hex
    }

    init(unchecked hex: String) { self.hex = hex }
}

/// The SHA-256 (lowercase hex) of a blob's canonical safetensors encoding.
public struct BlobID: ContentID {
    /// The 64 lowercase hex digits of the canonical safetensors bytes' SHA-256.
    public let hex: String

    /// Wraps a full 64-digit lowercase hex id; nil for anything else (uppercase, a prefix).
    public init?(_ hex: String) {
        guard ObjectID.isValidHex(hex) else { return nil }
        self.hex = hex
    }

    init(unchecked hex: String) { self.hex = hex }
}

enum ObjectID {
    static func isValidHex(_ s: String) -> Bool {
        s.utf8.count == 64 && s.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
    }
}
