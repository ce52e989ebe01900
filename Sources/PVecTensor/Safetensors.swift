import Foundation

/// One tensor's entry in a safetensors header.
public struct SafetensorsEntry: Sendable, Equatable {
    public var name: String
    public var dtype: DType
    public var shape: Shape
    /// Byte range within the data section (after the header).
    public var offsets: Range<Int>
}

/// A parsed, validated safetensors file (https://github.com/huggingface/safetensors format).
///
/// Layout: 8 bytes little-endian u64 N, N bytes of UTF-8 JSON header, then the data section.
/// The header maps names to `{dtype, shape, data_offsets: [begin, end]}` plus an optional
/// `__metadata__` string map. Validation follows the spec: offsets within the data section,
/// sizes matching dtype × shape, and the entries covering the data section contiguously with
/// no overlap and no hole.
///
/// ```swift
/// let file = try SafetensorsFile(bytes: Array(try Data(contentsOf: url)))
/// let p = try file.tensor("prompt_embeddings")
/// ```
public struct SafetensorsFile: Sendable {
    /// The largest header pvec parses (the reference implementation uses 100 MB).
    public static let maxHeaderSize: UInt64 = 100_000_000

    /// Entries in data-offset order.
    public let entries: [SafetensorsEntry]
    public let metadata: [String: String]?
    private let bytes: [UInt8]
    private let dataStart: Int

    /// Parses and validates; throws `TensorError` describing the first problem found.
    public init(bytes: [UInt8]) throws {
        guard bytes.count >= 8 else {
            throw TensorError.truncated("\(bytes.count) bytes, a safetensors file starts with an 8-byte header length")
        }
        var n: UInt64 = 0
        for i in 0..<8 { n |= UInt64(bytes[i]) << (8 * UInt64(i)) }
        guard n <= Self.maxHeaderSize else {
            throw TensorError.headerTooLarge(size: n, limit: Self.maxHeaderSize)
        }
        guard UInt64(bytes.count - 8) >= n else {
            throw TensorError.truncated("header announces \(n) bytes but only \(bytes.count - 8) follow")
        }
        let headerEnd = 8 + Int(n)
        let headerBytes = bytes[8..<headerEnd]
        guard headerBytes.first == UInt8(ascii: "{") else {
            throw TensorError.malformedHeader("the JSON header must start with '{'")
        }
        // The spec requires UTF-8; JSONSerialization alone would also guess UTF-16 and UTF-32.
        guard String(validating: headerBytes, as: UTF8.self) != nil else {
            throw TensorError.malformedHeader("the JSON header is not valid UTF-8")
        }
        guard Self.nestingDepth(headerBytes) <= Self.maxHeaderDepth else {
            throw TensorError.malformedHeader("the JSON header nests deeper than \(Self.maxHeaderDepth) levels or its brackets do not balance")
        }
        let json: Any
        do {
            json = try JSONSerialization.jsonObject(with: Data(headerBytes), options: [])
        } catch {
            throw TensorError.malformedHeader("header is not valid JSON")
        }
        guard let object = json as? [String: Any] else {
            throw TensorError.malformedHeader("header must be a JSON object")
        }
        var meta: [String: String]?
        var entries: [SafetensorsEntry] = []
        for (name, value) in object {
            if name == "__metadata__" {
                guard let m = value as? [String: Any] else {
                    throw TensorError.malformedHeader("__metadata__ must be an object of strings")
                }
                var out: [String: String] = [:]
                for (k, v) in m {
                    guard let s = v as? String else {
                        throw TensorError.malformedHeader("__metadata__ value for \(TensorError.quoted(k)) is not a string")
                    }
                    out[k] = s
                }
                meta = out
                continue
            }
            entries.append(try Self.parseEntry(name: name, value))
        }
        let dataSize = bytes.count - headerEnd
        entries.sort { ($0.offsets.lowerBound, $0.offsets.upperBound, $0.name) < ($1.offsets.lowerBound, $1.offsets.upperBound, $1.name) }
        var cursor = 0
        for e in entries {
            guard e.offsets.upperBound <= dataSize else {
                throw TensorError.badOffsets("\(TensorError.quoted(e.name)) ends at byte \(e.offsets.upperBound) but the data section has \(dataSize) bytes (file truncated?)")
            }
            if e.offsets.lowerBound < cursor {
                throw TensorError.overlappingOrGap("\(TensorError.quoted(e.name)) starts at \(e.offsets.lowerBound), overlapping the previous tensor which ends at \(cursor)")
            }
            if e.offsets.lowerBound > cursor {
                throw TensorError.overlappingOrGap("hole of \(e.offsets.lowerBound - cursor) bytes before \(TensorError.quoted(e.name))")
            }
            cursor = e.offsets.upperBound
        }
        if cursor != dataSize {
            throw TensorError.overlappingOrGap("\(dataSize - cursor) bytes after the last tensor are not indexed by the header")
        }
        self.entries = entries
        self.metadata = meta
        self.bytes = bytes
        self.dataStart = headerEnd
    }

    /// The deepest nesting a header may have (a valid one has 3: the object, an entry, its shape).
    static let maxHeaderDepth = 16

    /// The deepest nesting of arrays and objects in JSON text, ignoring brackets in strings;
    /// checked before the JSON parser runs so that it never recurses on hostile depth.
    static func nestingDepth(_ text: ArraySlice<UInt8>) -> Int {
        var depth = 0, deepest = 0
        var inString = false, escaped = false
        for b in text {
            if inString {
                if escaped { escaped = false } else if b == UInt8(ascii: "\\") { escaped = true } else if b == UInt8(ascii: "\"") { inString = false }
                continue
            }
            switch b {
            case UInt8(ascii: "\""): inString = true
            case UInt8(ascii: "["), UInt8(ascii: "{"):
                depth += 1
                deepest = max(deepest, depth)
            case UInt8(ascii: "]"), UInt8(ascii: "}"):
                depth -= 1
                if depth < 0 { return Int.max }   // not JSON; never let a parser see it
            default: break
            }
        }
        return deepest
    }

    private static func parseEntry(name: String, _ value: Any) throws -> SafetensorsEntry {
        guard let dict = value as? [String: Any] else {
            throw TensorError.malformedHeader("entry \(TensorError.quoted(name)) is not an object")
        }
        guard let dtypeString = dict["dtype"] as? String else {
            throw TensorError.malformedHeader("entry \(TensorError.quoted(name)) has no dtype")
        }
        guard let dtype = DType(rawValue: dtypeString) else {
            throw TensorError.unknownDType(String(TensorError.quoted(dtypeString, limit: 20).dropFirst().dropLast()))
        }
        guard let shapeAny = dict["shape"] as? [Any] else {
            throw TensorError.malformedHeader("entry \(TensorError.quoted(name)) has no shape array")
        }
        guard shapeAny.count <= Shape.maxRank else {
            throw TensorError.malformedHeader("entry \(TensorError.quoted(name)) has \(shapeAny.count) dimensions; pvec reads at most \(Shape.maxRank)")
        }
        var dims: [Int] = []
        for d in shapeAny {
            guard let n = integer(d), n >= 0, n <= Int64(Int32.max) else {
                throw TensorError.malformedHeader("entry \(TensorError.quoted(name)) has a bad dimension \(TensorError.quoted("\(d)", limit: 30))")
            }
            dims.append(Int(n))
        }
        guard let offs = dict["data_offsets"] as? [Any], offs.count == 2,
              let begin = integer(offs[0]), let end = integer(offs[1]),
              begin >= 0, end >= begin else {
            throw TensorError.malformedHeader("entry \(TensorError.quoted(name)) needs data_offsets [begin, end] of integers with begin <= end")
        }
        var count: Int64 = 1
        for d in dims {
            let (p, o) = count.multipliedReportingOverflow(by: Int64(d))
            guard !o, p < Int64(1) << 40 else { throw TensorError.badOffsets("\(TensorError.quoted(name)) shape \(dims) is too large") }
            count = p
        }
        let expected = count * Int64(dtype.size)
        guard end - begin == expected else {
            throw TensorError.badOffsets("\(TensorError.quoted(name)) spans \(end - begin) bytes but \(dtype.rawValue) \(dims) needs \(expected)")
        }
        return SafetensorsEntry(name: name, dtype: dtype, shape: Shape(dims),
                                offsets: Int(begin)..<Int(end))
    }

    /// A JSON number that is an integer in Int64 range (not 2.5, not 1e30).
    private static func integer(_ any: Any) -> Int64? {
        guard let n = any as? NSNumber else { return nil }
        let d = n.doubleValue
        guard d.rounded() == d, abs(d) < 0x1p62 else { return nil }
        let i = n.int64Value
        return Double(i) == d ? i : nil
    }

    /// Tensor names in data-offset order.
    public var keys: [String] { entries.map(\.name) }

    /// The named tensor converted to Float32.
    public func tensor(_ key: String) throws -> Tensor {
        guard let e = entries.first(where: { $0.name == key }) else {
            throw TensorError.missingKey(key: key, available: keys)
        }
        let start = dataStart + e.offsets.lowerBound
        let scalars = try bytes.withUnsafeBufferPointer { buf in
            try RawScalars.decode(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(buf)[start..<(dataStart + e.offsets.upperBound)]),
                                  dtype: e.dtype, count: e.shape.count, littleEndian: true)
        }
        return Tensor(shape: e.shape, scalars: scalars)
    }

    /// The only tensor, or the one named `key`; errors say which keys exist.
    public func tensor(key: String?) throws -> Tensor {
        if let key { return try tensor(key) }
        guard entries.count == 1 else {
            if entries.isEmpty { throw TensorError.missingKey(key: "(any)", available: []) }
            throw TensorError.ambiguousKey(available: keys)
        }
        return try tensor(entries[0].name)
    }

    // MARK: - Writing

    /// Encodes tensors as safetensors bytes.
    ///
    /// Keys are written in sorted order with data laid out in that order; the header is padded
    /// with spaces to a multiple of 8 bytes. With `metadata == nil` and `dtype == .f32` this is
    /// pvec's canonical blob encoding: the same tensors always give the same bytes.
    ///
    /// - Parameters:
    ///   - dtype: F32, F16, BF16 or F64.
    public static func encode(_ tensors: [String: Tensor], dtype: DType = .f32,
                              metadata: [String: String]? = nil) -> [UInt8] {
        precondition([.f32, .f16, .bf16, .f64].contains(dtype), "safetensors writing supports F32, F16, BF16, F64")
        precondition(!tensors.keys.contains("__metadata__"), "__metadata__ is reserved")
        let names = tensors.keys.sorted()
        let (prefix, dataSize) = header(names.map { ($0, tensors[$0]!.shape) }, dtype: dtype, metadata: metadata)
        var out = [UInt8]()
        out.reserveCapacity(prefix.count + dataSize)
        out += prefix
        for name in names {
            RawScalars.append(tensors[name]!.scalars, as: dtype, to: &out)
        }
        return out
    }

    /// pvec's canonical encoding of a single tensor: key `"tensor"`, F32, no metadata.
    public static func canonical(_ tensor: Tensor) -> [UInt8] {
        encode(["tensor": tensor])
    }

    /// What `encode` writes before the tensor data, for tensors with these names (sorted) and
    /// shapes: the 8-byte header length and the space-padded header; and the data's size.
    public static func header(_ tensors: [(name: String, shape: Shape)], dtype: DType = .f32,
                              metadata: [String: String]? = nil) -> (prefix: [UInt8], dataSize: Int) {
        var header = "{"
        var first = true
        if let metadata {
            header += "\"__metadata__\":{"
            header += metadata.keys.sorted().map { "\(JSONText.quote($0)):\(JSONText.quote(metadata[$0]!))" }.joined(separator: ",")
            header += "}"
            first = false
        }
        var offset = 0
        for (name, shape) in tensors {
            let size = shape.count * dtype.size
            if !first { header += "," }
            first = false
            header += "\(JSONText.quote(name)):{\"dtype\":\"\(dtype.rawValue)\",\"shape\":[\(shape.dims.map(String.init).joined(separator: ","))],\"data_offsets\":[\(offset),\(offset + size)]}"
            offset += size
        }
        header += "}"
        var headerBytes = Array(header.utf8)
        while headerBytes.count % 8 != 0 { headerBytes.append(UInt8(ascii: " ")) }
        var out = [UInt8]()
        out.reserveCapacity(8 + headerBytes.count)
        let n = UInt64(headerBytes.count)
        for i in 0..<8 { out.append(UInt8(truncatingIfNeeded: n >> (8 * UInt64(i)))) }
        return (out + headerBytes, offset)
    }
}

/// The safetensors writer under the name callers reach for: `Safetensors.canonical(t)` is
/// the blob encoding. Reading is `SafetensorsFile(bytes:)`.
public enum Safetensors {
    /// See `SafetensorsFile.encode(_:dtype:metadata:)`.
    public static func encode(_ tensors: [String: Tensor], dtype: DType = .f32,
                              metadata: [String: String]? = nil) -> [UInt8] {
        SafetensorsFile.encode(tensors, dtype: dtype, metadata: metadata)
    }

    /// pvec's canonical encoding of a single tensor: key `"tensor"`, F32, no metadata.
    public static func canonical(_ tensor: Tensor) -> [UInt8] {
        SafetensorsFile.canonical(tensor)
    }

    /// Parses and validates; see `SafetensorsFile(bytes:)`.
    public static func decode(_ bytes: [UInt8]) throws -> SafetensorsFile {
        try SafetensorsFile(bytes: bytes)
    }
}

/// Minimal JSON string quoting shared by the writers (control characters escaped).
public enum JSONText {
    public static func quote(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if u.value < 0x20 {
                    out += String(format: "\\u%04x", u.value)
                } else {
                    out.unicodeScalars.append(u)
                }
            }
        }
        return out + "\""
    }
}
