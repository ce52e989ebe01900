/// Decoding and encoding of packed scalar buffers, shared by the safetensors and .npy codecs.
public enum RawScalars {
    /// Reads `count` elements of `dtype` and converts them to Float32.
    ///
    /// - Throws: `TensorError.unsupportedDType` for dtypes that are not floating point.
    public static func decode(_ raw: UnsafeRawBufferPointer, dtype: DType, count: Int,
                              littleEndian: Bool) throws -> [Float] {
        precondition(raw.count >= count * dtype.size)
        var out = [Float](repeating: 0, count: count)
        try out.withUnsafeMutableBufferPointer { o in
            switch dtype {
            case .f32:
                for i in 0..<count {
                    let b = raw.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)
                    o[i] = Float(bitPattern: littleEndian ? UInt32(littleEndian: b) : UInt32(bigEndian: b))
                }
            case .f64:
                for i in 0..<count {
                    let b = raw.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self)
                    o[i] = Float(Double(bitPattern: littleEndian ? UInt64(littleEndian: b) : UInt64(bigEndian: b)))
                }
            case .f16:
                for i in 0..<count {
                    let b = raw.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)
                    o[i] = FloatConversion.float(fromHalf: littleEndian ? UInt16(littleEndian: b) : UInt16(bigEndian: b))
                }
            case .bf16:
                for i in 0..<count {
                    let b = raw.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)
                    o[i] = FloatConversion.float(fromBFloat16: littleEndian ? UInt16(littleEndian: b) : UInt16(bigEndian: b))
                }
            default:
                throw TensorError.unsupportedDType(dtype.rawValue)
            }
        }
        return out
    }

    /// Appends scalars encoded little-endian as `dtype` (F32, F16, BF16 or F64).
    public static func append(_ scalars: [Float], as dtype: DType, to out: inout [UInt8]) {
        let start = out.count
        out.append(contentsOf: repeatElement(0, count: scalars.count * dtype.size))
        out.withUnsafeMutableBytes { raw in
            let base = raw.baseAddress! + start
            switch dtype {
            case .f32:
                for (i, x) in scalars.enumerated() { (base + 4 * i).storeBytes(of: x.bitPattern.littleEndian, as: UInt32.self) }
            case .f64:
                for (i, x) in scalars.enumerated() { (base + 8 * i).storeBytes(of: Double(x).bitPattern.littleEndian, as: UInt64.self) }
            case .f16:
                for (i, x) in scalars.enumerated() { (base + 2 * i).storeBytes(of: FloatConversion.half(from: x).littleEndian, as: UInt16.self) }
            case .bf16:
                for (i, x) in scalars.enumerated() { (base + 2 * i).storeBytes(of: FloatConversion.bfloat16(from: x).littleEndian, as: UInt16.self) }
            default:
                preconditionFailure("cannot encode \(dtype.rawValue)")
            }
        }
    }
}
