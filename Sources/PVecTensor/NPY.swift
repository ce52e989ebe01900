/// The parsed header of a `.npy` file.
///
/// Layout (numpy's `lib/format.py`): the magic `\x93NUMPY`, a major and a minor version
/// byte, the header length (u16 little-endian in 1.0, u32 in 2.0 and 3.0), then an ASCII
/// (3.0: UTF-8) Python dict literal with the keys `descr`, `fortran_order` and `shape`,
/// padded with spaces and ended by `\n`; the array data follows.
public struct NPYHeader: Sendable, Equatable {
    /// Format version, major then minor (1.0, 2.0 or 3.0).
    public var major: UInt8
    public var minor: UInt8
    /// The numpy type string as written, e.g. `<f4`.
    public var descr: String
    /// The element type (F16, F32 or F64).
    public var dtype: DType
    /// True when the data is little-endian.
    public var littleEndian: Bool
    public var shape: Shape
    /// Offset of the first data byte from the start of the file.
    public var dataOffset: Int
}

/// Reading and writing numpy `.npy` files of floating-point arrays in C order.
///
/// ```swift
/// let t = try NPY.decode(Array(try Data(contentsOf: url)))
/// let bytes = NPY.encode(t)              // "<f4", the same bytes np.save writes
/// ```
public enum NPY {
    /// The largest header pvec parses; numpy's own `np.load` refuses headers above 10,000
    /// bytes by default, so anything past this is corrupt or hostile.
    public static let maxHeaderSize: UInt64 = 1 << 20

    static let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59] // \x93NUMPY

    // MARK: - Reading

    /// Parses and validates the header.
    ///
    /// - Throws: `TensorError.truncated`, `.malformedHeader`, `.headerTooLarge`,
    ///   `.fortranOrder`, `.unknownDType` or `.unsupportedDType`.
    public static func header(of bytes: [UInt8]) throws -> NPYHeader {
        guard bytes.count >= 10 else {
            throw TensorError.truncated("\(bytes.count) bytes, a .npy file starts with a 10-byte preamble")
        }
        guard Array(bytes[0..<6]) == magic else {
            throw TensorError.malformedHeader("not a .npy file (the magic \\x93NUMPY is missing)")
        }
        let major = bytes[6], minor = bytes[7]
        let lengthSize: Int
        switch major {
        case 1: lengthSize = 2
        case 2, 3: lengthSize = 4
        default:
            throw TensorError.malformedHeader(".npy version \(major).\(minor) is not supported; pvec reads 1.0, 2.0 and 3.0")
        }
        guard bytes.count >= 8 + lengthSize else {
            throw TensorError.truncated("the .npy header length field is cut off")
        }
        var length: UInt64 = 0
        for i in 0..<lengthSize { length |= UInt64(bytes[8 + i]) << (8 * UInt64(i)) }
        guard length <= maxHeaderSize else {
            throw TensorError.headerTooLarge(size: length, limit: maxHeaderSize)
        }
        let start = 8 + lengthSize
        let end = start + Int(length)
        guard bytes.count >= end else {
            throw TensorError.truncated("the .npy header announces \(length) bytes but only \(bytes.count - start) follow")
        }
        guard let text = String(validating: bytes[start..<end], as: UTF8.self) else {
            throw TensorError.malformedHeader("the .npy header is not valid text")
        }
        var parser = PythonLiteralParser(text)
        let literal: PythonLiteral
        do {
            literal = try parser.parseDocument()
        } catch let error as PythonLiteralParser.Failure {
            throw TensorError.malformedHeader("the .npy header is not a Python dict literal: \(error.message)")
        }
        guard case .dict(let dict) = literal else {
            throw TensorError.malformedHeader("the .npy header must be a dict")
        }
        let keys = Set(dict.map(\.key))
        guard keys == ["descr", "fortran_order", "shape"], dict.count == 3 else {
            throw TensorError.malformedHeader("the .npy header must have exactly the keys descr, fortran_order, shape; found \(dict.map(\.key).sorted().prefix(8).map { TensorError.quoted($0, limit: 30) }.joined(separator: ", "))")
        }
        let value = { (k: String) in dict.first { $0.key == k }!.value }

        guard case .string(let descr) = value("descr") else {
            throw TensorError.unsupportedNPYDType("\(TensorError.quoted(value("descr").description)) (structured .npy arrays are not tensors)")
        }
        guard case .bool(let fortran) = value("fortran_order") else {
            throw TensorError.malformedHeader("fortran_order must be True or False")
        }
        guard case .tuple(let dimsAny) = value("shape") else {
            throw TensorError.malformedHeader("shape must be a tuple of integers")
        }
        guard dimsAny.count <= Shape.maxRank else {
            throw TensorError.malformedHeader("shape has \(dimsAny.count) dimensions; pvec reads at most \(Shape.maxRank)")
        }
        var dims: [Int] = []
        var total: Int64 = 1
        for d in dimsAny {
            guard case .int(let n) = d, n >= 0, n <= Int64(Int32.max) else {
                throw TensorError.malformedHeader("shape holds a bad dimension \(TensorError.quoted(d.description, limit: 30))")
            }
            let (p, o) = total.multipliedReportingOverflow(by: n)
            guard !o, p < Int64(1) << 40 else { throw TensorError.malformedHeader("shape \(TensorError.quoted(PythonLiteral.tuple(dimsAny).description)) is too large") }
            total = p
            dims.append(Int(n))
        }
        let (dtype, little) = try parseDescr(descr)
        if fortran { throw TensorError.fortranOrder }
        return NPYHeader(major: major, minor: minor, descr: descr, dtype: dtype,
                         littleEndian: little, shape: Shape(dims), dataOffset: end)
    }

    /// Decodes a `.npy` file into a Float32 tensor.
    ///
    /// Reads `f2`, `f4` and `f8` in either byte order, C order only. The data must be exactly
    /// the size the header announces: a short file is truncated, and extra bytes mean the
    /// file is not what its header says.
    ///
    /// - Throws: `TensorError` naming the first problem found (see `header(of:)`), plus
    ///   `.truncated` for short data and `.badOffsets` for trailing bytes.
    public static func decode(_ bytes: [UInt8]) throws -> Tensor {
        let h = try header(of: bytes)
        let count = h.shape.count
        let needed = count * h.dtype.size
        let available = bytes.count - h.dataOffset
        guard available >= needed else {
            throw TensorError.truncated(".npy data holds \(available) bytes but \(h.descr) \(h.shape) needs \(needed)")
        }
        guard available == needed else {
            throw TensorError.badOffsets("\(available - needed) bytes follow the .npy array data")
        }
        let scalars = try bytes.withUnsafeBytes { raw in
            try RawScalars.decode(UnsafeRawBufferPointer(rebasing: raw[h.dataOffset..<(h.dataOffset + needed)]),
                                  dtype: h.dtype, count: count, littleEndian: h.littleEndian)
        }
        return Tensor(shape: h.shape, scalars: scalars)
    }

    /// Maps a numpy type string to a dtype and byte order.
    static func parseDescr(_ descr: String) throws -> (DType, littleEndian: Bool) {
        // Quoted as in the file, cut short: the header can hold up to 1 MiB of anything.
        let shown = TensorError.quoted(descr, limit: 40)
        let chars = Array(descr.unicodeScalars)
        guard chars.count >= 3, chars.count <= 8 else { throw TensorError.unsupportedNPYDType(shown) }
        let order = chars[0]
        let kind = chars[1]
        let digits = chars[2...]
        guard digits.allSatisfy({ ("0"..."9").contains($0) }),
              let size = Int(String(String.UnicodeScalarView(digits))) else {
            throw TensorError.unsupportedNPYDType(shown)
        }
        guard "<>|=".unicodeScalars.contains(order), "biufcmMOSUV".unicodeScalars.contains(kind) else {
            throw TensorError.unsupportedNPYDType(shown)
        }
        let dtype: DType
        switch (kind, size) {
        case ("f", 2): dtype = .f16
        case ("f", 4): dtype = .f32
        case ("f", 8): dtype = .f64
        default:
            throw TensorError.unsupportedNPYDType(shown)
        }
        switch order {
        case "<": return (dtype, true)
        case ">": return (dtype, false)
        case "=": return (dtype, UInt16(1).littleEndian == 1)
        default:
            // '|' means "byte order not applicable", true only of 1-byte types.
            throw TensorError.malformedHeader("byte order '|' in \(TensorError.quoted(descr)) is only meaningful for 1-byte types")
        }
    }

    // MARK: - Writing

    /// Encodes a tensor as `.npy` bytes in C order, byte for byte what numpy's `np.save`
    /// writes for the same array (numpy ≥ 1.24: sorted keys, spare room after the shape for
    /// in-place growth, header padded with spaces and `\n` to a multiple of 64 bytes).
    ///
    /// Version 1.0 is used unless the header needs more than 65,535 bytes, then 2.0.
    ///
    /// The `<f4` encoding (never fails); see `encode(_:dtype:)`.
    public static func encode(_ tensor: Tensor) -> [UInt8] {
        encode(tensor, descr: "<f4", dtype: .f32)
    }

    /// Encodes as F32 (`<f4`), F16 (`<f2`) or F64 (`<f8`).
    ///
    /// - Throws: `TensorError.npyCannotWrite` for any other dtype (numpy has no bfloat16).
    public static func encode(_ tensor: Tensor, dtype: DType) throws -> [UInt8] {
        guard let descr = descr(writing: dtype) else { throw TensorError.npyCannotWrite(dtype) }
        return encode(tensor, descr: descr, dtype: dtype)
    }

    /// The type string the writer uses for `dtype`, nil if it cannot write it.
    public static func descr(writing dtype: DType) -> String? {
        switch dtype {
        case .f32: return "<f4"
        case .f16: return "<f2"
        case .f64: return "<f8"
        default: return nil
        }
    }

    private static func encode(_ tensor: Tensor, descr: String, dtype: DType) -> [UInt8] {
        let dims = tensor.shape.dims
        let shapeRepr = dims.count == 1 ? "(\(dims[0]),)" : "(" + dims.map(String.init).joined(separator: ", ") + ")"
        var dict = "{'descr': '\(descr)', 'fortran_order': False, 'shape': \(shapeRepr), }"
        // numpy leaves room for the first axis to grow to 21 digits without rewriting the file.
        if let first = dims.first { dict += String(repeating: " ", count: max(0, 21 - String(first).count)) }
        var headerText = Array(dict.utf8)
        var major: UInt8 = 1
        var prefix = 10
        var hlen = headerText.count + 1
        var padded = hlen + (64 - (prefix + hlen) % 64)
        if padded > 0xFFFF {
            major = 2
            prefix = 12
            padded = hlen + (64 - (prefix + hlen) % 64)
        }
        hlen = padded
        headerText.append(contentsOf: repeatElement(UInt8(ascii: " "), count: hlen - 1 - headerText.count))
        headerText.append(UInt8(ascii: "\n"))

        var out = magic
        out.reserveCapacity(prefix + hlen + tensor.count * dtype.size)
        out += [major, 0]
        for i in 0..<(prefix - 8) { out.append(UInt8(truncatingIfNeeded: hlen >> (8 * i))) }
        out += headerText
        RawScalars.append(tensor.scalars, as: dtype, to: &out)
        return out
    }
}

// MARK: - Python literal parsing

/// The values a `.npy` header dict may hold.
enum PythonLiteral: Equatable, CustomStringConvertible {
    case string(String)
    case int(Int64)
    case bool(Bool)
    case none
    case tuple([PythonLiteral])
    case list([PythonLiteral])
    case dict([(key: String, value: PythonLiteral)])

    static func == (a: PythonLiteral, b: PythonLiteral) -> Bool { a.description == b.description }

    var description: String {
        switch self {
        case .string(let s): return "'\(s)'"
        case .int(let n): return String(n)
        case .bool(let b): return b ? "True" : "False"
        case .none: return "None"
        case .tuple(let xs): return "(" + xs.map(\.description).joined(separator: ", ") + (xs.count == 1 ? ",)" : ")")
        case .list(let xs): return "[" + xs.map(\.description).joined(separator: ", ") + "]"
        case .dict(let kv): return "{" + kv.map { "'\($0.key)': \($0.value)" }.joined(separator: ", ") + "}"
        }
    }
}

/// A recursive-descent parser for the literal subset numpy writes (what `ast.literal_eval`
/// would accept for a header): strings, integers, True/False/None, tuples, lists, dicts.
struct PythonLiteralParser {
    struct Failure: Error { var message: String }

    private let chars: [UInt8]
    private var i = 0
    private var depth = 0

    init(_ text: String) { chars = Array(text.utf8) }

    /// One literal, then only whitespace.
    mutating func parseDocument() throws -> PythonLiteral {
        let v = try parseValue()
        skipSpace()
        guard i == chars.count else { throw Failure(message: "unexpected text at byte \(i)") }
        return v
    }

    private mutating func skipSpace() {
        while i < chars.count, [0x20, 0x0A, 0x0D, 0x09].contains(chars[i]) { i += 1 }
    }

    private mutating func parseValue() throws -> PythonLiteral {
        skipSpace()
        guard i < chars.count else { throw Failure(message: "unexpected end") }
        switch chars[i] {
        case UInt8(ascii: "'"), UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "("):
            let (items, trailingComma) = try parseSequence(close: UInt8(ascii: ")"))
            // "(3)" is just 3 in Python; only "(3,)" is a one-tuple.
            if items.count == 1 && !trailingComma { return items[0] }
            return .tuple(items)
        case UInt8(ascii: "["): return .list(try parseSequence(close: UInt8(ascii: "]")).0)
        case UInt8(ascii: "{"): return try parseDict()
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .int(try parseInt())
        default:
            for (word, value) in [("True", PythonLiteral.bool(true)), ("False", .bool(false)), ("None", .none)] {
                let w = Array(word.utf8)
                if chars.count - i >= w.count, Array(chars[i..<(i + w.count)]) == w {
                    i += w.count
                    return value
                }
            }
            throw Failure(message: "unexpected character at byte \(i)")
        }
    }

    private mutating func parseString() throws -> String {
        let quote = chars[i]
        i += 1
        var out: [UInt8] = []
        while i < chars.count, chars[i] != quote {
            if chars[i] == UInt8(ascii: "\\") {
                i += 1
                guard i < chars.count else { break }
            }
            out.append(chars[i])
            i += 1
        }
        guard i < chars.count else { throw Failure(message: "unterminated string") }
        i += 1
        return String(decoding: out, as: UTF8.self)
    }

    private mutating func parseInt() throws -> Int64 {
        let start = i
        if chars[i] == UInt8(ascii: "-") { i += 1 }
        while i < chars.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(chars[i]) { i += 1 }
        guard let n = Int64(String(decoding: chars[start..<i], as: UTF8.self)) else {
            throw Failure(message: "bad integer at byte \(start)")
        }
        // Python 2 era files wrote long integers as "3L".
        if i < chars.count, chars[i] == UInt8(ascii: "L") { i += 1 }
        return n
    }

    private mutating func enter() throws {
        depth += 1
        guard depth <= 16 else { throw Failure(message: "nesting too deep") }
    }

    private mutating func parseSequence(close: UInt8) throws -> ([PythonLiteral], trailingComma: Bool) {
        try enter()
        defer { depth -= 1 }
        i += 1
        var items: [PythonLiteral] = []
        var trailingComma = false
        while true {
            skipSpace()
            guard i < chars.count else { throw Failure(message: "unterminated sequence") }
            if chars[i] == close { i += 1; return (items, trailingComma) }
            items.append(try parseValue())
            trailingComma = false
            skipSpace()
            guard i < chars.count else { throw Failure(message: "unterminated sequence") }
            if chars[i] == UInt8(ascii: ",") {
                i += 1
                trailingComma = true
            } else if chars[i] != close {
                throw Failure(message: "expected ',' at byte \(i)")
            }
        }
    }

    private mutating func parseDict() throws -> PythonLiteral {
        try enter()
        defer { depth -= 1 }
        i += 1
        var kv: [(key: String, value: PythonLiteral)] = []
        while true {
            skipSpace()
            guard i < chars.count else { throw Failure(message: "unterminated dict") }
            if chars[i] == UInt8(ascii: "}") { i += 1; return .dict(kv) }
            guard chars[i] == UInt8(ascii: "'") || chars[i] == UInt8(ascii: "\"") else {
                throw Failure(message: "dict keys must be strings (byte \(i))")
            }
            let key = try parseString()
            skipSpace()
            guard i < chars.count, chars[i] == UInt8(ascii: ":") else { throw Failure(message: "expected ':' at byte \(i)") }
            i += 1
            let value = try parseValue()
            if kv.contains(where: { $0.key == key }) { throw Failure(message: "duplicate key '\(key)'") }
            kv.append((key, value))
            skipSpace()
            guard i < chars.count else { throw Failure(message: "unterminated dict") }
            if chars[i] == UInt8(ascii: ",") {
                i += 1
            } else if chars[i] != UInt8(ascii: "}") {
                throw Failure(message: "expected ',' at byte \(i)")
            }
        }
    }
}
