/// Element types that appear in safetensors and .npy files.
///
/// pvec computes in Float32 only; the others are read (and the float ones written) at the edges.
public enum DType: String, Sendable, Codable, CaseIterable {
    case bool = "BOOL"
    case u8 = "U8", i8 = "I8"
    case u16 = "U16", i16 = "I16"
    case u32 = "U32", i32 = "I32"
    case u64 = "U64", i64 = "I64"
    case f16 = "F16", bf16 = "BF16"
    case f32 = "F32", f64 = "F64"
    case f8e4m3 = "F8_E4M3", f8e5m2 = "F8_E5M2"

    /// Bytes per element.
    public var size: Int {
        switch self {
        case .bool, .u8, .i8, .f8e4m3, .f8e5m2: return 1
        case .u16, .i16, .f16, .bf16: return 2
        case .u32, .i32, .f32: return 4
        case .u64, .i64, .f64: return 8
        }
    }

    public var isFloat: Bool {
        switch self {
        case .f16, .bf16, .f32, .f64, .f8e4m3, .f8e5m2: return true
        default: return false
        }
    }
}
