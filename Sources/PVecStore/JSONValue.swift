import Foundation

/// A JSON value with pvec's canonical encoding, used for manifests and recipes.
///
/// Canonical form: object keys sorted by their UTF-8 bytes, no insignificant whitespace,
/// strings with the minimal escapes (`"` `\\` and control characters), integers as integers,
/// other finite doubles in Swift's shortest round-trip form (`0.5`, `1e-05`). NaN and
/// infinities are not JSON: they are written as `null` (a report of a non-finite norm
/// prints `null`), and `Manifest.validate` refuses them in manifests.
public enum JSONValue: Hashable, Sendable, Codable {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null; return }
        if let b = try? c.decode(Bool.self) { self = .bool(b); return }
        if let i = try? c.decode(Int64.self) { self = .int(i); return }
        if let d = try? c.decode(Double.self) { self = .double(d); return }
        if let s = try? c.decode(String.self) { self = .string(s); return }
        if let a = try? c.decode([JSONValue].self) { self = .array(a); return }
        if let o = try? c.decode([String: JSONValue].self) { self = .object(o); return }
        throw DecodingError.dataCorruptedError(in: c, debugDescription: "not a JSON value")
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .null: try c.encodeNil()
        case .bool(let b): try c.encode(b)
        case .int(let i): try c.encode(i)
        case .double(let d): try c.encode(d)
        case .string(let s): try c.encode(s)
        case .array(let a): try c.encode(a)
        case .object(let o): try c.encode(o)
        }
    }

    // MARK: - Canonical text

    /// The canonical encoding as bytes.
    public var canonicalBytes: [UInt8] {
        var out = [UInt8]()
        write(to: &out)
        return out
    }

    public var canonicalString: String { String(decoding: canonicalBytes, as: UTF8.self) }

    private func write(to out: inout [UInt8]) {
        switch self {
        case .null: out += Array("null".utf8)
        case .bool(let b): out += Array((b ? "true" : "false").utf8)
        case .int(let i): out += Array(String(i).utf8)
        case .double(let d): out += Array((d.isFinite ? Self.numberText(d) : "null").utf8)
        case .string(let s): Self.writeString(s, to: &out)
        case .array(let a):
            out.append(UInt8(ascii: "["))
            for (i, v) in a.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                v.write(to: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let o):
            out.append(UInt8(ascii: "{"))
            let keys = o.keys.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
            for (i, k) in keys.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                Self.writeString(k, to: &out)
                out.append(UInt8(ascii: ":"))
                o[k]!.write(to: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    /// Integral doubles within ±2^53 print as integers, so `1.0` and `1` encode alike.
    /// Only for finite values (the writer prints non-finite ones as `null`).
    static func numberText(_ d: Double) -> String {
        if d == d.rounded(), abs(d) <= 9_007_199_254_740_992 {
            return String(Int64(d))
        }
        return "\(d)"
    }

    private static func writeString(_ s: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "\""): out += [UInt8(ascii: "\\"), UInt8(ascii: "\"")]
            case UInt8(ascii: "\\"): out += [UInt8(ascii: "\\"), UInt8(ascii: "\\")]
            case 0x0A: out += [UInt8(ascii: "\\"), UInt8(ascii: "n")]
            case 0x0D: out += [UInt8(ascii: "\\"), UInt8(ascii: "r")]
            case 0x09: out += [UInt8(ascii: "\\"), UInt8(ascii: "t")]
            case 0..<0x20: out += Array(String(format: "\\u%04x", b).utf8)
            default: out.append(b)
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    /// True if every number inside is finite.
    public var isFinite: Bool {
        switch self {
        case .double(let d): return d.isFinite
        case .array(let a): return a.allSatisfy(\.isFinite)
        case .object(let o): return o.values.allSatisfy(\.isFinite)
        default: return true
        }
    }

    // MARK: - Accessors

    public var stringValue: String? { if case .string(let s) = self { return s } else { return nil } }
    public var intValue: Int64? {
        switch self {
        case .int(let i): return i
        case .double(let d) where d == d.rounded(): return Int64(exactly: d)
        default: return nil
        }
    }
    public var doubleValue: Double? {
        switch self {
        case .int(let i): return Double(i)
        case .double(let d): return d
        default: return nil
        }
    }
    public var boolValue: Bool? { if case .bool(let b) = self { return b } else { return nil } }
    public var arrayValue: [JSONValue]? { if case .array(let a) = self { return a } else { return nil } }
    public var objectValue: [String: JSONValue]? { if case .object(let o) = self { return o } else { return nil } }

    public subscript(key: String) -> JSONValue? { objectValue?[key] }

    /// Parses JSON text (any JSON value at top level).
    ///
    /// Before decoding, one pass over the bytes checks the nesting and the size, so hostile
    /// input is refused at the cost of a scan.
    /// - Parameters:
    ///   - maxDepth: most arrays and objects inside one another (`defaultMaxDepth`).
    ///   - maxElements: most array elements and object members in all (counted as commas plus
    ///     opening brackets outside strings; unlimited by default).
    /// - Throws: `JSONValue.LimitError` over a limit, `DecodingError` for text that is not JSON.
    public static func parse(_ bytes: some DataProtocol, maxDepth: Int = defaultMaxDepth,
                             maxElements: Int = .max) throws -> JSONValue {
        let data = Data(bytes)
        try checkLimits(data, maxDepth: maxDepth, maxElements: maxElements)
        return try JSONDecoder().decode(JSONValue.self, from: data)
    }

    /// Nesting `parse` allows by default: far above any manifest, recipe or request pvec writes.
    public static let defaultMaxDepth = 100

    /// JSON text over a limit of `parse`.
    public enum LimitError: Error, Equatable, LocalizedError {
        case tooDeep(limit: Int)
        case tooManyElements(limit: Int)

        public var errorDescription: String? {
            switch self {
            case .tooDeep(let limit): return "the JSON nests arrays and objects more than \(limit) deep"
            case .tooManyElements(let limit): return "the JSON has more than \(limit) elements"
            }
        }
    }

    /// The scan `parse` makes first: throws if `bytes` nest deeper than `maxDepth` or hold
    /// more than `maxElements` elements. It does not check that the bytes are JSON.
    public static func checkLimits(_ bytes: [UInt8], maxDepth: Int, maxElements: Int) throws {
        try bytes.withUnsafeBytes { try checkLimits($0, maxDepth: maxDepth, maxElements: maxElements) }
    }

    static func checkLimits(_ data: Data, maxDepth: Int, maxElements: Int) throws {
        try data.withUnsafeBytes { try checkLimits($0, maxDepth: maxDepth, maxElements: maxElements) }
    }

    static func checkLimits(_ raw: UnsafeRawBufferPointer, maxDepth: Int, maxElements: Int) throws {
        do {
            var depth = 0, elements = 0
            var inString = false, escaped = false
            for b in raw {
                if inString {
                    if escaped { escaped = false } else if b == UInt8(ascii: "\\") { escaped = true } else if b == UInt8(ascii: "\"") { inString = false }
                    continue
                }
                switch b {
                case UInt8(ascii: "\""):
                    inString = true
                case UInt8(ascii: "["), UInt8(ascii: "{"):
                    depth += 1
                    elements += 1
                    if depth > maxDepth { throw LimitError.tooDeep(limit: maxDepth) }
                    if elements > maxElements { throw LimitError.tooManyElements(limit: maxElements) }
                case UInt8(ascii: "]"), UInt8(ascii: "}"):
                    depth -= 1
                case UInt8(ascii: ","):
                    elements += 1
                    if elements > maxElements { throw LimitError.tooManyElements(limit: maxElements) }
                default:
                    break
                }
            }
        }
    }
}

extension JSONValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral,
    ExpressibleByBooleanLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral {
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int64) { self = .int(value) }
    public init(floatLiteral value: Double) { self = .double(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self = .object(Dictionary(elements, uniquingKeysWith: { _, b in b }))
    }
}
