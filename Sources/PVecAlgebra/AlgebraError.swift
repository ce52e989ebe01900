import Foundation
import PVecTensor

/// Everything that can go wrong in tensor arithmetic and merges.
public enum AlgebraError: Error, Equatable, LocalizedError {
    /// Operand `index` of `operation` has shape `found`, but the first operand has `expected`.
    case shapeMismatch(operation: String, expected: Shape, found: Shape, index: Int)
    /// `operation` was given `found` operands and needs at least `minimum`.
    case tooFewOperands(operation: String, minimum: Int, found: Int)
    /// A parameter lies outside the range the method is defined on.
    case invalidParameter(operation: String, name: String, value: String, expected: String)
    /// Operand `index` is the zero vector, which has no direction to compare.
    case zeroNorm(operation: String, index: Int)
    /// Operand `index` holds NaN or infinity, which the method cannot rank or sign.
    case nonFinite(operation: String, index: Int)

    public var errorDescription: String? {
        switch self {
        case .shapeMismatch(let op, let expected, let found, let index):
            return "\(op): operand \(index + 1) has shape \(found) but operand 1 has \(expected); use tensors of one backbone and prompt length"
        case .tooFewOperands(let op, let minimum, let found):
            return "\(op) needs at least \(minimum) operand\(minimum == 1 ? "" : "s"), got \(found)"
        case .invalidParameter(let op, let name, let value, let expected):
            return "\(op): \(name) = \(value) is invalid; expected \(expected)"
        case .zeroNorm(let op, let index):
            return "\(op): operand \(index + 1) is the zero vector, so its cosine is undefined"
        case .nonFinite(let op, let index):
            return "\(op): operand \(index + 1) contains NaN or Inf; fix or re-derive it first"
        }
    }
}
