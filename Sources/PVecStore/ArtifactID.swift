/// The SHA-256 (lowercase hex) of an artifact's canonical manifest; immutable.
public struct ArtifactID: Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
    public let hex: String

    /// Wraps a full 64-character lowercase hex id; returns nil for anything else.
    public init?(_ hex: String) {
        guard ObjectID.isValidHex(hex) else { return nil }
        self.hex = hex
    }

    init(unchecked hex: String) { self.hex = hex }

    /// The first 12 hex digits, as shown to people.
    public var short: String { String(hex.prefix(12)) }
    public var description: String { hex }
    public static func < (a: ArtifactID, b: ArtifactID) -> Bool { a.hex < b.hex }

    public init(from decoder: Decoder) throws {
        let s = try decoder.singleValueContainer().decode(String.self)
        guard let id = ArtifactID(s) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "bad artifact id '\(s)'"))
        }
        self = id
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(hex)
    }
}

/// The SHA-256 (lowercase hex) of a blob's canonical safetensors encoding.
public struct BlobID: Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
    public let hex: String

    public init?(_ hex: String) {
        guard ObjectID.isValidHex(hex) else { return nil }
        self.hex = hex
    }

    init(unchecked hex: String) { self.hex = hex }

    public var short: String { String(hex.prefix(12)) }
    public var description: String { hex }
    public static func < (a: BlobID, b: BlobID) -> Bool { a.hex < b.hex }

    public init(from decoder: Decoder) throws {
        let s = try decoder.singleValueContainer().decode(String.self)
        guard let id = BlobID(s) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "bad blob id '\(s)'"))
        }
        self = id
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(hex)
    }
}

enum ObjectID {
    static func isValidHex(_ s: String) -> Bool {
        s.utf8.count == 64 && s.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
    }
}
