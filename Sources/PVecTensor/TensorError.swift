import Foundation

/// Everything that can go wrong in the tensor layer: decoding files and checking tensors.
public enum TensorError: Error, Equatable, LocalizedError {
    /// The file ends before the structure it announces (header or data) is complete.
    case truncated(String)
    /// The header is not valid for the format (bad JSON, bad magic, bad field).
    case malformedHeader(String)
    /// The header is larger than pvec accepts.
    case headerTooLarge(size: UInt64, limit: UInt64)
    /// A tensor's byte range lies outside the data section or does not match its shape.
    case badOffsets(String)
    /// Two tensors' byte ranges overlap, or leave a gap (the spec requires contiguity).
    case overlappingOrGap(String)
    /// A dtype string that the format does not define.
    case unknownDType(String)
    /// A dtype that the format defines but pvec cannot convert to Float32.
    case unsupportedDType(String)
    /// The requested key is not in the file.
    case missingKey(key: String, available: [String])
    /// The file holds several tensors and none was chosen.
    case ambiguousKey(available: [String])
    /// A .npy array stored in Fortran (column-major) order.
    case fortranOrder
    /// NaN or infinity where finite numbers are required.
    case nonFinite(String)
    /// Two tensors whose shapes must agree do not.
    case shapeMismatch(String)

    public var errorDescription: String? {
        switch self {
        case .truncated(let what):
            return "file is truncated: \(what); re-export or re-download it"
        case .malformedHeader(let what):
            return "malformed header: \(what)"
        case .headerTooLarge(let size, let limit):
            return "header of \(size) bytes exceeds the limit of \(limit) bytes; the file is corrupt or not a tensor file"
        case .badOffsets(let what):
            return "bad data offsets: \(what)"
        case .overlappingOrGap(let what):
            return "tensor data is not contiguous: \(what)"
        case .unknownDType(let d):
            return "unknown dtype '\(d)'; known: \(DType.allCases.map(\.rawValue).joined(separator: ", "))"
        case .unsupportedDType(let d):
            return "dtype \(d) cannot be read as a float tensor; pvec reads F16, BF16, F32 and F64"
        case .missingKey(let key, let available):
            return "no tensor named '\(key)'; the file holds: \(available.joined(separator: ", "))"
        case .ambiguousKey(let available):
            return "the file holds several tensors (\(available.joined(separator: ", "))); choose one with --tensor KEY"
        case .fortranOrder:
            return "the .npy array is in Fortran order; save it with np.ascontiguousarray(a) first"
        case .nonFinite(let what):
            return "\(what) contains NaN or Inf; fix the source, or pass --allow-nonfinite to keep it anyway"
        case .shapeMismatch(let what):
            return "shape mismatch: \(what)"
        }
    }
}
