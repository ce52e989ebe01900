/// The layout of pvec's canonical single-tensor safetensors bytes, recognised without a
/// JSON parser: readers of stored blobs check the header byte for byte against the one
/// `Safetensors.canonical` writes for the same shape.
public struct CanonicalTensorLayout: Sendable, Equatable {
    /// The tensor's shape.
    public var shape: Shape
    /// Where the F32 data starts (8-byte length + padded header).
    public var dataStart: Int

    /// The header `Safetensors.canonical` writes for a tensor of `shape`: the 8-byte length
    /// and the JSON padded with spaces to a multiple of 8.
    public static func header(for shape: Shape) -> [UInt8] {
        let size = shape.count * DType.f32.size
        let json = "{\"tensor\":{\"dtype\":\"F32\",\"shape\":[\(shape.dims.map(String.init).joined(separator: ","))],\"data_offsets\":[0,\(size)]}}"
        var text = Array(json.utf8)
        while text.count % 8 != 0 { text.append(UInt8(ascii: " ")) }
        var out: [UInt8] = []
        out.reserveCapacity(8 + text.count)
        let n = UInt64(text.count)
        for i in 0..<8 { out.append(UInt8(truncatingIfNeeded: n >> (8 * UInt64(i)))) }
        return out + text
    }

    static let prefix = Array("{\"tensor\":{\"dtype\":\"F32\",\"shape\":[".utf8)

    /// The layout of `bytes` (the first bytes of a blob, at least its header) when they start
    /// with exactly the canonical header of one F32 tensor under the key `tensor`, and
    /// `total` (the length of the whole canonical encoding) fits it; nil for anything else
    /// (several tensors, another dtype), which the general parser then reads.
    public static func parse(_ bytes: UnsafeRawBufferPointer, total: Int) -> CanonicalTensorLayout? {
        guard bytes.count >= 8 else { return nil }
        var n: UInt64 = 0
        for i in 0..<8 { n |= UInt64(bytes[i]) << (8 * UInt64(i)) }
        // A canonical header of 64 dimensions of 10 digits is under 1 KiB.
        guard n <= 2048, 8 + Int(n) <= bytes.count, 8 + Int(n) <= total else { return nil }
        let end = 8 + Int(n)
        guard end - 8 > prefix.count else { return nil }
        for (k, b) in prefix.enumerated() where bytes[8 + k] != b { return nil }
        var dims: [Int] = []
        var i = 8 + prefix.count
        var value: Int64 = 0, digits = 0
        while i < end {
            let b = bytes[i]
            if b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9") {
                value = value * 10 + Int64(b - UInt8(ascii: "0"))
                digits += 1
                guard digits <= 10 else { return nil }
            } else if b == UInt8(ascii: ",") || b == UInt8(ascii: "]") {
                if digits > 0 {
                    guard dims.count < Shape.maxRank, value <= Int64(Int32.max) else { return nil }
                    dims.append(Int(value))
                } else if b == UInt8(ascii: ",") || !dims.isEmpty {
                    return nil
                }
                value = 0
                digits = 0
                if b == UInt8(ascii: "]") { break }
            } else {
                return nil
            }
            i += 1
        }
        guard Shape.isPlausible(dims.map(Int64.init)) else { return nil }
        let shape = Shape(dims)
        guard total - end == shape.count * DType.f32.size else { return nil }
        let expected = header(for: shape)
        guard expected.count == end else { return nil }
        for k in 0..<end where bytes[k] != expected[k] { return nil }
        return CanonicalTensorLayout(shape: shape, dataStart: end)
    }
}
