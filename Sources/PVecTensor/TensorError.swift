import Foundation

/// Everything that can go wrong in the tensor layer: decoding files and checking tensors.
///
/// `description` is the readable message too, so `"\(error)"` never shows Swift case syntax.
public enum TensorError: Error, Equatable, LocalizedError, CustomStringConvertible {
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
    /// A `.npy` type string (`descr`) pvec does not read, as written in the file (`<i4`).
    case unsupportedNPYDType(String)
    /// A dtype the `.npy` writer cannot write (numpy has no bfloat16).
    case npyCannotWrite(DType)
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
    /// A LAPACK routine refused its input or did not converge (`info` as it returned it).
    case linearAlgebra(routine: String, info: Int, reason: String)

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
        case .unsupportedNPYDType(let d):
            return "the .npy dtype \(d) is not supported; pvec reads the float types '<f2', '<f4', '<f8' (and '>f2', '>f4', '>f8'); convert with a.astype('<f4')"
        case .npyCannotWrite(let d):
            if d == .bf16 {
                return "numpy's .npy has no bfloat16; use --format safetensors for BF16, or --dtype F16, F32 or F64 for .npy"
            }
            return ".npy files are written as F16, F32 or F64, not \(d.rawValue); use --dtype F16, F32 or F64"
        case .missingKey(let key, let available):
            return "no tensor named \(Self.quoted(key)); the file holds: \(Self.list(available))"
        case .ambiguousKey(let available):
            return "the file holds several tensors (\(Self.list(available))); choose one with --tensor KEY"
        case .fortranOrder:
            return "the .npy array is in Fortran order; save it with np.ascontiguousarray(a) first"
        case .nonFinite(let what):
            return "\(what) contains NaN or Inf; fix the source, or pass --allow-nonfinite to keep it anyway"
        case .shapeMismatch(let what):
            return "shape mismatch: \(what)"
        case .linearAlgebra(let routine, let info, let reason):
            return "\(routine) failed (info \(info)): \(reason)"
        }
    }

    public var description: String { errorDescription ?? "tensor error" }
}

extension TensorError {
    /// Text from a file, fit for a message: control characters escaped, cut to `limit`
    /// characters, in single quotes (`'a\u{1B}[31m…'`).
    /// Up to 20 names from a file, quoted.
    static func list(_ names: [String]) -> String {
        if names.isEmpty { return "nothing" }
        let shown = names.prefix(20).map { quoted($0) }.joined(separator: ", ")
        return names.count > 20 ? shown + " and \(names.count - 20) more" : shown
    }

    static func quoted(_ text: String, limit: Int = 60) -> String {
        var out = "'"
        var n = 0
        for u in text.unicodeScalars {
            if n == limit { out += "…"; break }
            n += 1
            if u.value < 0x20 || (0x7F...0x9F).contains(u.value) || u == "'" || u == "\\" {
                out += u == "'" ? "\\'" : u == "\\" ? "\\\\" : "\\u{\(String(u.value, radix: 16))}"
            } else {
                out.unicodeScalars.append(u)
            }
        }
        return out + "'"
    }
}
