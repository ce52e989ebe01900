import Foundation

/// A JSON value with pvec's canonical encoding, used for manifests and recipes.
///
/// Canonical form: object keys sorted by their UTF-8 bytes, no insignificant whitespace,
/// strings with the minimal escapes (`"` `\\` and control characters), integers as integers,
/// other finite doubles in Swift's shortest round-trip form (`0.5`, `1e-05`). NaN and
/// infinities are not JSON: they are written as `null` (a report of a non-finite norm
/// prints `null`), and `Manifest.validate` refuses them in manifests.
public enum JSONValue: Hashable, Sendable, Codable {
    /// JSON `null`; non-finite doubles are also written as `null`.
    case null
    /// `true` or `false`.
    case bool(Bool)
    /// An integer; `parse` also gives this for integral numbers within ±2^53.
    case int(Int64)
    /// Any other number; encodes as `null` when not finite.
    case double(Double)
    /// A string; encoded with the minimal escapes.
    case string(String)
    /// An array, in order.
    case array([JSONValue])
    /// An object; key order is not kept (the canonical form sorts keys by UTF-8 bytes).
    case object([String: JSONValue])

    /// Decodes any JSON value through `Codable`, trying null, Bool, Int64, Double, String, array
    /// and object in that order.
    ///
    /// For raw text prefer `parse`, which refuses duplicate keys and bounds nesting.
    /// - Throws: `DecodingError.dataCorrupted` when the value is none of these.
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

    /// Encodes through `Codable`; the encoder picks key order and number text, so anything
    /// hashed must use `canonicalBytes` instead.
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

    /// The canonical encoding as a String (`canonicalBytes` decoded as UTF-8).
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

    /// The string, if this is `.string`.
    public var stringValue: String? { if case .string(let s) = self { return s } else { return nil } }
    /// The integer, if this is `.int` or a `.double` holding an integer that fits Int64.
    public var intValue: Int64? {
        switch self {
        case .int(let i): return i
        case .double(let d) where d == d.rounded(): return Int64(exactly: d)
        default: return nil
        }
    }
    /// The number, if this is `.int` (converted; exact only within ±2^53) or `.double`.
    public var doubleValue: Double? {
        switch self {
        case .int(let i): return Double(i)
        case .double(let d): return d
        default: return nil
        }
    }
    /// The Bool, if this is `.bool`.
    public var boolValue: Bool? { if case .bool(let b) = self { return b } else { return nil } }
    /// The elements, if this is `.array`.
    public var arrayValue: [JSONValue]? { if case .array(let a) = self { return a } else { return nil } }
    /// The members, if this is `.object`.
    public var objectValue: [String: JSONValue]? { if case .object(let o) = self { return o } else { return nil } }

    /// The member named `key`; nil when it is absent or this is not an object.
    public subscript(key: String) -> JSONValue? { objectValue?[key] }

    /// The nesting depth `parse` allows by default (arrays and objects; manifests need 4).
    public static let defaultMaxDepth = 128

    /// Parses JSON text (RFC 8259, UTF-8; any JSON value at top level).
    ///
    /// Work and memory are linear in the input; nesting deeper than `maxDepth` arrays or
    /// objects is refused rather than recursed into. Stricter than `JSONDecoder` where JSON
    /// is ambiguous: duplicate object keys and unpaired surrogate escapes are errors.
    /// Integral numbers within ±2^53 (and any integer literal that fits Int64) become `.int`,
    /// so `parse(v.canonicalBytes)` gives back `v` for every value `parse` returns.
    ///
    /// ```swift
    /// let v = try JSONValue.parse(Array(#"{"a":[1,2.5]}"#.utf8))   // ["a": [1, 2.5]]
    /// ```
    /// - Throws: `JSONValue.ParseError` with the byte offset of the problem.
    /// - Parameters:
    ///   - maxDepth: most arrays and objects inside one another (`defaultMaxDepth`).
    ///   - maxElements: most array elements and object members in all, checked by a scan
    ///     before parsing (unlimited by default).
    public static func parse(_ bytes: some DataProtocol, maxDepth: Int = defaultMaxDepth,
                             maxElements: Int = .max) throws -> JSONValue {
        let array = Array(bytes)
        if maxElements != .max { try checkLimits(array, maxDepth: maxDepth, maxElements: maxElements) }
        return try array.withUnsafeBufferPointer { buf in
            var p = JSONParser(buf, maxDepth: maxDepth)
            return try p.document()
        }
    }

    /// JSON text over a limit of `parse`.
    public enum LimitError: Error, Equatable, LocalizedError {
        /// Arrays and objects nest more than `limit` deep.
        case tooDeep(limit: Int)
        /// More than `limit` array elements and object members in all.
        case tooManyElements(limit: Int)

        /// Names the limit the JSON went over.
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

    /// Why text is not JSON that `parse` accepts.
    public struct ParseError: Error, Equatable, LocalizedError, CustomStringConvertible {
        /// Offset of the first byte at fault.
        public var offset: Int
        /// What is wrong at `offset`, as a short phrase (`duplicate key`, `unterminated string`).
        public var reason: String

        /// `not valid JSON at byte N: reason`.
        public var errorDescription: String? { "not valid JSON at byte \(offset): \(reason)" }
        /// The same text as `errorDescription`.
        public var description: String { errorDescription! }
    }
}

/// A recursive-descent parser over UTF-8 bytes with an explicit depth bound.
private struct JSONParser {
    let s: UnsafeBufferPointer<UInt8>
    let maxDepth: Int
    var i = 0
    var depth = 0

    init(_ s: UnsafeBufferPointer<UInt8>, maxDepth: Int) {
        self.s = s
        self.maxDepth = maxDepth
        // A UTF-8 byte order mark (some editors write one) is not part of the text.
        if s.count >= 3, s[0] == 0xEF, s[1] == 0xBB, s[2] == 0xBF { i = 3 }
    }

    func fail(_ reason: String, at offset: Int? = nil) -> JSONValue.ParseError {
        JSONValue.ParseError(offset: offset ?? i, reason: reason)
    }

    mutating func document() throws -> JSONValue {
        let v = try value()
        skipSpace()
        guard i == s.count else { throw fail("unexpected text after the value") }
        return v
    }

    mutating func skipSpace() {
        while i < s.count, s[i] == 0x20 || s[i] == 0x0A || s[i] == 0x0D || s[i] == 0x09 { i += 1 }
    }

    mutating func value() throws -> JSONValue {
        skipSpace()
        guard i < s.count else { throw fail("unexpected end of text") }
        switch s[i] {
        case UInt8(ascii: "{"): return try object()
        case UInt8(ascii: "["): return try array()
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"): try word("true"); return .bool(true)
        case UInt8(ascii: "f"): try word("false"); return .bool(false)
        case UInt8(ascii: "n"): try word("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try number()
        default: throw fail("unexpected character")
        }
    }

    mutating func word(_ w: StaticString) throws {
        let n = w.utf8CodeUnitCount
        guard s.count - i >= n else { throw fail("unexpected end of text") }
        for k in 0..<n where s[i + k] != w.utf8Start[k] { throw fail("unexpected character") }
        i += n
    }

    mutating func enter() throws {
        depth += 1
        guard depth <= maxDepth else { throw fail("nested deeper than \(maxDepth) arrays or objects") }
        i += 1
    }

    mutating func array() throws -> JSONValue {
        try enter()
        defer { depth -= 1 }
        var items: [JSONValue] = []
        skipSpace()
        if i < s.count, s[i] == UInt8(ascii: "]") { i += 1; return .array(items) }
        while true {
            items.append(try value())
            skipSpace()
            guard i < s.count else { throw fail("unterminated array") }
            if s[i] == UInt8(ascii: ",") { i += 1; continue }
            guard s[i] == UInt8(ascii: "]") else { throw fail("expected ',' or ']'") }
            i += 1
            return .array(items)
        }
    }

    mutating func object() throws -> JSONValue {
        try enter()
        defer { depth -= 1 }
        var members: [String: JSONValue] = [:]
        skipSpace()
        if i < s.count, s[i] == UInt8(ascii: "}") { i += 1; return .object(members) }
        while true {
            skipSpace()
            guard i < s.count, s[i] == UInt8(ascii: "\"") else { throw fail("expected a string key") }
            let keyOffset = i
            let key = try string()
            skipSpace()
            guard i < s.count, s[i] == UInt8(ascii: ":") else { throw fail("expected ':'") }
            i += 1
            let v = try value()
            guard members.updateValue(v, forKey: key) == nil else { throw fail("duplicate key", at: keyOffset) }
            skipSpace()
            guard i < s.count else { throw fail("unterminated object") }
            if s[i] == UInt8(ascii: ",") { i += 1; continue }
            guard s[i] == UInt8(ascii: "}") else { throw fail("expected ',' or '}'") }
            i += 1
            return .object(members)
        }
    }

    /// A string starting at the opening quote; checks UTF-8 and escapes.
    mutating func string() throws -> String {
        let start = i
        i += 1
        var out: [UInt8] = []
        var runStart = i
        while true {
            guard i < s.count else { throw fail("unterminated string", at: start) }
            let b = s[i]
            if b == UInt8(ascii: "\"") { break }
            if b < 0x20 { throw fail("control character in a string") }
            if b != UInt8(ascii: "\\") { i += 1; continue }
            out.append(contentsOf: s[runStart..<i])
            i += 1
            guard i < s.count else { throw fail("unterminated string", at: start) }
            switch s[i] {
            case UInt8(ascii: "\""): out.append(0x22)
            case UInt8(ascii: "\\"): out.append(0x5C)
            case UInt8(ascii: "/"): out.append(0x2F)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                let escape = i - 1
                var scalar = try hex4()
                if (0xD800..<0xDC00).contains(scalar) {
                    guard s.count - i >= 7, s[i + 1] == UInt8(ascii: "\\"), s[i + 2] == UInt8(ascii: "u") else {
                        throw fail("unpaired surrogate escape", at: escape)
                    }
                    i += 2
                    let low = try hex4()
                    guard (0xDC00..<0xE000).contains(low) else { throw fail("unpaired surrogate escape", at: escape) }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                } else if (0xDC00..<0xE000).contains(scalar) {
                    throw fail("unpaired surrogate escape", at: escape)
                }
                out.append(contentsOf: Array(String(Character(Unicode.Scalar(scalar)!)).utf8))
            default:
                throw fail("unknown escape")
            }
            i += 1
            runStart = i
        }
        out.append(contentsOf: s[runStart..<i])
        i += 1
        guard let text = String(validating: out, as: UTF8.self) else { throw fail("a string is not valid UTF-8", at: start) }
        return text
    }

    /// Four hex digits after `\u`; leaves `i` on the last one.
    mutating func hex4() throws -> UInt32 {
        guard s.count - i > 4 else { throw fail("unterminated \\u escape") }
        var v: UInt32 = 0
        for k in 1...4 {
            let c = s[i + k]
            let d: UInt8
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): d = c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): d = c - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): d = c - UInt8(ascii: "A") + 10
            default: throw fail("bad \\u escape", at: i + k)
            }
            v = v << 4 | UInt32(d)
        }
        i += 4
        return v
    }

    /// RFC 8259 number grammar; integers stay exact, everything else is a finite Double.
    mutating func number() throws -> JSONValue {
        let start = i
        func digits() -> Int {
            let from = i
            while i < s.count, s[i] >= UInt8(ascii: "0"), s[i] <= UInt8(ascii: "9") { i += 1 }
            return i - from
        }
        if s[i] == UInt8(ascii: "-") { i += 1 }
        let intStart = i
        let n = digits()
        guard n > 0 else { throw fail("bad number", at: start) }
        guard n == 1 || s[intStart] != UInt8(ascii: "0") else { throw fail("leading zero in a number", at: start) }
        var integral = true
        if i < s.count, s[i] == UInt8(ascii: ".") {
            i += 1
            integral = false
            guard digits() > 0 else { throw fail("bad number", at: start) }
        }
        if i < s.count, s[i] == UInt8(ascii: "e") || s[i] == UInt8(ascii: "E") {
            i += 1
            integral = false
            if i < s.count, s[i] == UInt8(ascii: "+") || s[i] == UInt8(ascii: "-") { i += 1 }
            guard digits() > 0 else { throw fail("bad number", at: start) }
        }
        let text = String(decoding: s[start..<i], as: UTF8.self)
        if integral, let v = Int64(text) { return .int(v) }
        guard let d = Double(text), d.isFinite else { throw fail("number out of range", at: start) }
        if d == d.rounded(), abs(d) <= 9_007_199_254_740_992 { return .int(Int64(d)) }
        return .double(d)
    }
}

extension JSONValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral,
    ExpressibleByBooleanLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral {
    /// A string literal as `.string`.
    public init(stringLiteral value: String) { self = .string(value) }
    /// An integer literal as `.int`.
    public init(integerLiteral value: Int64) { self = .int(value) }
    /// A float literal as `.double` (an integral one, like `1.0`, still encodes as `1`).
    public init(floatLiteral value: Double) { self = .double(value) }
    /// `true` or `false` as `.bool`.
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    /// An array literal as `.array`.
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    /// A dictionary literal as `.object`; a repeated key keeps its last value.
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self = .object(Dictionary(elements, uniquingKeysWith: { _, b in b }))
    }
}
