import Foundation
import PVecTensor

/// A frozen BERT sentence encoder (all-MiniLM-L6-v2 by default) on CPU, with a soft prompt
/// spliced into its input and gradients back to that prompt.
///
/// **Prompt placement.** A prompt P `[m, C]` lives in word-embedding space. With
/// `promptPlacement = .afterCLS` (the default of this type) it goes right after `[CLS]`:
/// `[CLS] P₁ … Pₘ tokens… [SEP] (pads)`, which keeps `[CLS]` first, where BERT was trained
/// with it. With `.prepend` it goes before every token, as PEFT's prompt tuning puts it:
/// `P₁ … Pₘ [CLS] tokens… [SEP] (pads)`. Either way prompt rows receive position embeddings
/// for the positions they occupy and token type 0, like any token, and then the embedding
/// LayerNorm.
///
/// **Pooling.** The output is the mean of the last hidden states over all real positions,
/// prompt positions included (they are part of the sequence the model sees, and PEFT's
/// attention mask covers them too), optionally L2-normalised: the same rows in both
/// placements. Without a prompt this is exactly the sentence-transformers embedding of
/// all-MiniLM-L6-v2 (Transformer → mean Pooling → Normalize).
///
/// The encoder keeps the activations of its latest `forward` for `backward`; the buffers are
/// allocated once and grow only when a batch does not fit.
///
/// ```swift
/// let encoder = try BertEncoder()                      // finds and verifies the model
/// let vectors = try encoder.embed(texts: ["A cat.", "A dog."])
/// ```
public final class BertEncoder: BackboneModel {
    /// The model id recorded in fingerprints.
    public static let miniLML6ModelID = "sentence-transformers/all-MiniLM-L6-v2"
    /// The longest token sequence sentence-transformers feeds this model.
    public static let sentenceTransformersMaxLength = 256

    public let config: BertConfig
    public let tokenizer: WordPieceTokenizer
    public let modelID: String
    let parameters: BertParameters
    /// The cache of `forward`, with every layer kept for `backward`.
    var activations: BertActivations?
    /// The cache of `embed`, one layer slice reused by all layers: inference never grows the
    /// (much larger) training cache, and leaves a pending forward/backward pair intact.
    var inferenceActivations: BertActivations?
    var lastForward: ForwardRecord?
    private var cachedFingerprint: Backbone?
    /// Where `forward` puts prompt rows; `embed` has no prompt, so it does not care.
    public var promptPlacement: PromptPlacement = .afterCLS

    /// What backward needs to know about the latest forward.
    struct ForwardRecord {
        var B: Int, T: Int, promptRows: Int
        /// Row of the first prompt row in each sequence (`PromptPlacement.firstPromptRow`).
        var promptStart: Int = 1
        var lengths: [Int]      // positions per sequence, prompt included
        var normalize: Bool
        /// The batch had one prompt per sequence (`forward(_:prompts:normalize:)`).
        var perExample: Bool = false
    }

    // MARK: - Loading

    /// Loads and verifies the model.
    ///
    /// - Parameters:
    ///   - directory: the model directory; nil searches as `ModelDirectory.locate` describes.
    ///   - environment: the environment used for that search.
    ///   - expectedSHA256: model.safetensors must have this SHA-256 (nil: skip the check).
    /// - Throws: `ModelError.modelNotFound` (run `scripts/fetch-model`), `.checksumMismatch`,
    ///   `.missingFile`, `.missingWeight`, `.weightShapeMismatch`, `.invalidConfiguration`.
    public convenience init(directory: URL? = nil,
                            environment: [String: String] = ProcessInfo.processInfo.environment,
                            expectedSHA256: String? = ModelDirectory.miniLML6SHA256) throws {
        let (parameters, tokenizer) = try Self.loadParts(directory: directory, environment: environment,
                                                         expectedSHA256: expectedSHA256)
        self.init(parameters: parameters, tokenizer: tokenizer, modelID: Self.miniLML6ModelID)
        if expectedSHA256 == ModelDirectory.miniLML6SHA256 {
            cachedFingerprint = Backbone(model: modelID, width: config.width,
                                         embedding: ModelDirectory.miniLML6EmbeddingSHA256)
        }
    }

    /// The weights and tokenizer, read and checked (the work of the public initializer).
    static func loadParts(directory: URL? = nil,
                          environment: [String: String] = ProcessInfo.processInfo.environment,
                          expectedSHA256: String? = ModelDirectory.miniLML6SHA256) throws
        -> (BertParameters, WordPieceTokenizer) {
        let dir = try ModelDirectory.locate(explicit: directory, environment: environment)
        let config: BertConfig
        if let data = try? Data(contentsOf: dir.configURL) {
            config = try BertConfig(configJSON: data)
        } else {
            config = .miniLML6
        }
        let tokenizer = try WordPieceTokenizer(vocabularyFile: dir.vocabularyURL)
        guard tokenizer.vocabulary.count == config.vocabularySize else {
            throw ModelError.invalidConfiguration(
                "vocab.txt has \(tokenizer.vocabulary.count) tokens but config.json says \(config.vocabularySize)")
        }
        let file = try SafetensorsFile(bytes: dir.readWeights(expectedSHA256: expectedSHA256))
        return (try BertParameters(safetensors: file, config: config), tokenizer)
    }

    init(parameters: BertParameters, tokenizer: WordPieceTokenizer, modelID: String) {
        self.config = parameters.config
        self.parameters = parameters
        self.tokenizer = tokenizer
        self.modelID = modelID
    }

    // MARK: - BackboneModel

    public var width: Int { config.width }
    public var vocabularySize: Int { config.vocabularySize }
    public var maxPositions: Int { config.maxPositions }

    /// Model id, width and SHA-256 of the canonical encoding of the word-embedding table
    /// (known for a verified all-MiniLM-L6-v2 file; otherwise computed on first use, then kept).
    public var fingerprint: Backbone {
        if let cachedFingerprint { return cachedFingerprint }
        let table = parameters.wordEmbeddingRows(0..<config.vocabularySize)
        let fp = Backbone(model: modelID, width: config.width,
                          embedding: Digest.sha256Hex(Safetensors.canonical(table)))
        cachedFingerprint = fp
        return fp
    }

    public func tokenize(_ text: String, pair: String? = nil,
                         maxLength: Int = BertEncoder.sentenceTransformersMaxLength) -> TokenizedText {
        tokenizer.encode(text, pair: pair, maxLength: maxLength)
    }

    public func wordEmbeddings(rows: Range<Int>) -> Tensor {
        parameters.wordEmbeddingRows(rows)
    }

    /// Runs the batch and returns the mean-pooled last hidden states `[B, C]`.
    ///
    /// - Parameters:
    ///   - prompt: `[m, C]` rows spliced into every sequence where `promptPlacement` says (see
    ///     the type's documentation), or nil.
    ///   - normalize: L2-normalise each row (sentence-transformers does).
    /// - Throws: `ModelError.promptWidthMismatch`, `.sequenceTooLong`.
    public func forward(_ batch: [TokenizedText], prompt: Tensor? = nil, normalize: Bool = true) throws -> Tensor {
        try run(batch, prompt: prompt, normalize: normalize, forBackward: true)
    }

    /// Runs the batch with one soft prompt per sequence and returns `[B, C]`.
    ///
    /// Sequence b holds prompts[b] where `promptPlacement` says, as in `forward(_:prompt:normalize:)`; the
    /// following `backward` also returns `promptPerExample`, each sequence's dL/dprompts[b].
    /// Composition methods (ATTEMPT, AMP, ComPT) need this: their prompts depend on the input
    /// or the task, so a batch holds many prompts.
    ///
    /// - Parameters:
    ///   - prompts: B prompts, all `[m, C]` (same m), in batch order.
    /// - Throws: `ModelError.promptWidthMismatch`, `.sequenceTooLong`.
    public func forward(_ batch: [TokenizedText], prompts: [Tensor], normalize: Bool = true) throws -> Tensor {
        try run(batch, prompts: prompts, perExample: true, normalize: normalize, forBackward: true)
    }

    /// The gradient of a loss L with respect to the prompt (and optionally every input row),
    /// given dL/d(output of the latest `forward`) `[B, C]`.
    ///
    /// Runs the layers in reverse, adding into gradient buffers cleared at the start.
    ///
    /// - Throws: `ModelError.noForwardPass` if no `forward` ran yet.
    public func backward(dFeatures: Tensor, inputGradients: Bool = false) throws -> InputGradients {
        guard let record = lastForward, let acts = activations, acts.keepsLayers else {
            throw ModelError.noForwardPass
        }
        precondition(dFeatures.shape.dims == [record.B, config.width],
                     "dFeatures must be [B, C] = [\(record.B), \(config.width)], got \(dFeatures.shape)")
        let B = record.B, T = record.T, m = record.promptRows, C = config.width, s = record.promptStart
        backwardPass(dFeatures.scalars, record: record, acts: acts)
        var promptGrad: Tensor?
        if m > 0 {
            var g = [Float](repeating: 0, count: m * C)
            for b in 0..<B {
                let src = acts.demb + (b * T + s) * C
                for i in 0..<(m * C) { g[i] += src[i] }
            }
            promptGrad = Tensor(shape: [m, C], scalars: g)
        }
        var perExample: Tensor?
        if m > 0 && record.perExample {
            // The prompt rows of each sequence's input gradient, copied out of the padded layout.
            var g = [Float](repeating: 0, count: B * m * C)
            for b in 0..<B {
                let src = acts.demb + (b * T + s) * C
                for i in 0..<(m * C) { g[b * m * C + i] = src[i] }
            }
            perExample = Tensor(shape: [B, m, C], scalars: g)
        }
        var inputs: Tensor?
        if inputGradients {
            inputs = Tensor(shape: [B, T, C], scalars: Array(UnsafeBufferPointer(start: acts.demb, count: B * T * C)))
        }
        return InputGradients(prompt: promptGrad, inputs: inputs, promptPerExample: perExample)
    }

    // MARK: - Sentence embeddings

    /// sentence-transformers embeddings: texts truncated to 256 tokens, mean-pooled,
    /// L2-normalised. Texts are batched by length; the order of the result follows `texts`.
    public func embed(texts: [String]) throws -> [[Float]] {
        let encoded = texts.map { tokenize($0, pair: nil, maxLength: Self.sentenceTransformersMaxLength) }
        let order = encoded.indices.sorted { encoded[$0].count < encoded[$1].count }
        var result = [[Float]](repeating: [], count: texts.count)
        let rowBudget = 4096
        var start = 0
        while start < order.count {
            var end = start
            var longest = 0
            while end < order.count {
                let t = max(longest, encoded[order[end]].count)
                if end > start && (end - start + 1) * t > rowBudget { break }
                longest = t
                end += 1
            }
            let chunk = Array(order[start..<end])
            let out = try run(chunk.map { encoded[$0] }, prompt: nil, normalize: true, forBackward: false)
            for (row, i) in chunk.enumerated() {
                result[i] = Array(out.scalars[(row * config.width)..<((row + 1) * config.width)])
            }
            start = end
        }
        return result
    }
}
