import Foundation

/// Everything that can go wrong loading or running a frozen backbone.
public enum ModelError: Error, Equatable, LocalizedError {
    /// No model directory was found in any of the searched places.
    case modelNotFound(searched: [String])
    /// The model directory lacks a file the backbone needs.
    case missingFile(path: String)
    /// model.safetensors does not have the published SHA-256.
    case checksumMismatch(path: String, expected: String, actual: String)
    /// A weight tensor is absent from model.safetensors.
    case missingWeight(name: String, available: [String])
    /// A weight tensor has a shape other than the configuration implies.
    case weightShapeMismatch(name: String, expected: [Int], actual: [Int])
    /// config.json or vocab.txt could not be read or is not what a BERT model carries.
    case invalidConfiguration(String)
    /// A sequence (tokens plus soft prompt rows) is longer than the position table.
    case sequenceTooLong(length: Int, limit: Int)
    /// A soft prompt whose width is not the backbone's width.
    case promptWidthMismatch(promptShape: [Int], width: Int)
    /// `backward` was called without a preceding `forward`.
    case noForwardPass
    /// No model for this backbone (its description) is at hand.
    case backboneNotAtHand(String)

    public var errorDescription: String? {
        switch self {
        case .modelNotFound(let searched):
            return "no backbone model found (looked in \(searched.joined(separator: ", "))); "
                + "run scripts/fetch-model, or point --model / $PVEC_MODEL at the model directory"
        case .missingFile(let path):
            return "model file \(path) is missing; run scripts/fetch-model to fetch the model again"
        case .checksumMismatch(let path, let expected, let actual):
            return "\(path) has SHA-256 \(actual), expected \(expected); the file is corrupt or a "
                + "different model: delete it and run scripts/fetch-model"
        case .missingWeight(let name, let available):
            return "model.safetensors has no tensor '\(name)' (it holds \(available.count) tensors, e.g. "
                + "\(available.prefix(4).joined(separator: ", "))); is this a BERT checkpoint?"
        case .weightShapeMismatch(let name, let expected, let actual):
            return "weight '\(name)' has shape \(actual), but config.json implies \(expected)"
        case .invalidConfiguration(let what):
            return "invalid model configuration: \(what)"
        case .sequenceTooLong(let length, let limit):
            return "a sequence of \(length) positions (tokens plus prompt rows) exceeds the model's "
                + "\(limit) positions; truncate the text to fewer tokens or use a shorter prompt"
        case .promptWidthMismatch(let shape, let width):
            return "soft prompt of shape \(shape) does not fit a backbone of width \(width); "
                + "it needs shape [rows, \(width)] (was it trained on another backbone?)"
        case .noForwardPass:
            return "backward needs a forward pass over the same batch first"
        case .backboneNotAtHand(let backbone):
            return "no model for backbone \(backbone) is at hand (pass --model DIR)"
        }
    }
}
