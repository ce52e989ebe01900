import Foundation
import PVecStore
import PVecTensor

/// Refusals of registry operations: combining things that must not be combined.
public enum OpsError: Error, Equatable, LocalizedError {
    /// Operands live in different embedding spaces.
    case backboneMismatch(String, String)
    /// Operands have different shapes.
    case shapeMismatch(String, Shape, String, Shape)
    /// A vector was wanted but the artifact is a prompt with no recorded init.
    case noRecordedInit(String)
    /// The artifact's kind cannot be used here.
    case wrongKind(String, ArtifactKind, expected: String)
    /// A recipe that pvec cannot recompute (unknown op or missing parameter).
    case notRecomputable(String)
    /// The operation needs at least this many operands.
    case tooFewOperands(Int)
    /// The input holds NaN or Inf.
    case nonFinite(String)
    /// A file that cannot be read.
    case unreadable(String, String)
    /// A file that cannot be written.
    case unwritable(String, String)
    /// A request whose options do not fit together (an option the method does not take, a
    /// required one left out); the text says what to change.
    case invalidRequest(String)
    /// Two parents came from PEFT adapters that PEFT would load differently; the field says how.
    case peftMismatch(String, String, field: String)
    /// A task vector was asked for as a PEFT adapter.
    case vectorAsAdapter(String)

    /// What was refused, naming the artifacts or file and, where there is one, the fix.
    public var errorDescription: String? {
        switch self {
        case .backboneMismatch(let a, let b):
            return "backbone mismatch: \(a) and \(b) were made for different models or widths; only artifacts of one backbone can be combined"
        case .shapeMismatch(let a, let sa, let b, let sb):
            return "shape mismatch: \(a) is \(sa) but \(b) is \(sb); task prompt vectors must have the same number of rows and width"
        case .noRecordedInit(let name):
            return "\(name) is a prompt with no recorded init, so its task vector is unknown; make one with `pvec vector --tuned \(name) --init INIT`"
        case .wrongKind(let name, let kind, let expected):
            return "\(name) is a \(kind.rawValue), expected \(expected)"
        case .notRecomputable(let why):
            return "cannot recompute: \(why)"
        case .tooFewOperands(let n):
            return "this operation needs at least \(n) operand\(n == 1 ? "" : "s")"
        case .unreadable(let path, let why):
            return "cannot read \(path): \(why)"
        case .unwritable(let path, let why):
            return "cannot write \(path): \(why)"
        case .invalidRequest(let what):
            return what
        case .peftMismatch(let a, let b, let field):
            return "PEFT adapter mismatch: \(a) and \(b) differ in \(field), so the result would load as neither; combine adapters of one kind, or pass --peft-config FILE to say which adapter the result is"
        case .vectorAsAdapter(let name):
            return "\(name) is a task vector (tuned − init), not a prompt: as a PEFT adapter it loads but steers nothing; add it onto an init first (`pvec add \(name) --onto INIT --name P`, then export P), or pass --allow-vector to export the vector itself"
        case .nonFinite(let what):
            return "\(what) contains NaN or Inf; fix the source, or pass --allow-nonfinite to keep it anyway"
        }
    }
}
