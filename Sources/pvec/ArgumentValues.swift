import ArgumentParser
import PVecOps
import PVecStore
import PVecTrain

// Closed sets of values as argument types: a bad value fails while parsing (one line, with a
// hint), `--help` lists the values, and completion offers them. The library's own enums are
// used where they exist, so a method or kind added there appears here without a change.

extension MergeMethod: ExpressibleByArgument {}
extension SimilaritySpace: ExpressibleByArgument {}
extension ArtifactKind: ExpressibleByArgument {}
extension DAMModule.Pooling: ExpressibleByArgument {}
extension ComPTComposition: ExpressibleByArgument {}
extension MetaMethod: ExpressibleByArgument {}
extension CompositionFitMethod: ExpressibleByArgument {}
extension InitRecipe.Method: ExpressibleByArgument {}

/// What `pvec import` can store a tensor as: the prompt-shaped kinds.
enum ImportKind: String, CaseIterable, ExpressibleByArgument {
    case prompt
    case `init`
    case vector

    var artifactKind: ArtifactKind {
        switch self {
        case .prompt: return .prompt
        case .`init`: return .`init`
        case .vector: return .vector
        }
    }
}

/// What `pvec similar` ranks.
enum RankedKind: String, CaseIterable, ExpressibleByArgument {
    case prompt
    case vector

    var artifactKind: ArtifactKind { self == .prompt ? .prompt : .vector }
}
