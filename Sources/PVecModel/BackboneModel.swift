import PVecTensor

/// A frozen language model that soft prompts are tuned against.
///
/// The trainer sees only this protocol: it tokenizes, reads word-embedding rows (for
/// `vocab-sample` inits), runs a batch forward with a soft prompt spliced into the input
/// embeddings, and asks for the gradient of a loss with respect to that prompt. The weights
/// never change, so no weight gradients exist. `BertEncoder` is the first conformer; a
/// causal LM would splice the prompt after its BOS token and return its own features (for
/// instance the last position's hidden state) in the same `[B, width]` form.
///
/// Conformers hold the activations of their latest forward pass, so an instance serves one
/// training loop at a time (it is a class and not `Sendable`).
///
/// ```swift
/// let model: any BackboneModel = try BertEncoder()
/// let batch = texts.map { model.tokenize($0, pair: nil, maxLength: 64) }
/// let features = try model.forward(batch, prompt: prompt, normalize: true)   // [B, C]
/// let grads = try model.backward(dFeatures: dLoss, inputGradients: false)
/// prompt = prompt - lr * grads.prompt!
/// ```
public protocol BackboneModel: AnyObject {
    /// The model, its width and the hash of its word-embedding table.
    var fingerprint: Backbone { get }
    /// C: the width of word embeddings, soft prompt rows and output features.
    var width: Int { get }
    /// V: rows of the word-embedding table.
    var vocabularySize: Int { get }
    /// The longest input, in positions (tokens plus prompt rows).
    var maxPositions: Int { get }
    /// Where the next `forward` puts the prompt rows (set it before a run; see `PromptPlacement`).
    var promptPlacement: PromptPlacement { get set }

    /// Token ids for a text or a text pair, special tokens included, at most `maxLength` ids.
    func tokenize(_ text: String, pair: String?, maxLength: Int) -> TokenizedText

    /// Rows of the word-embedding table, `[rows.count, C]`.
    func wordEmbeddings(rows: Range<Int>) -> Tensor

    /// Runs the batch and returns one feature row per example, `[B, C]`.
    ///
    /// - Parameters:
    ///   - prompt: a soft prompt `[m, C]` in word-embedding space, shared by the batch, or nil.
    ///   - normalize: L2-normalise each feature row.
    func forward(_ batch: [TokenizedText], prompt: Tensor?, normalize: Bool) throws -> Tensor

    /// Runs the batch with one prompt per example (`prompts[b]`, all `[m, C]`) and returns `[B, C]`;
    /// the next `backward` fills `InputGradients.promptPerExample`.
    func forward(_ batch: [TokenizedText], prompts: [Tensor], normalize: Bool) throws -> Tensor

    /// Back-propagates `dFeatures` (dL/d output of the latest `forward`, `[B, C]`) to the inputs.
    ///
    /// - Parameters:
    ///   - inputGradients: also return dL/d(every input embedding row).
    func backward(dFeatures: Tensor, inputGradients: Bool) throws -> InputGradients
}

/// Gradients of a loss with respect to a backbone's input embeddings.
public struct InputGradients: Sendable {
    /// dL/dP `[m, C]`, summed over the batch; nil when the forward pass had no prompt.
    public var prompt: Tensor?
    /// dL/d(input embedding rows) `[B, T, C]` in the padded layout of the forward pass
    /// (for `BertEncoder`: the prompt rows and the tokens in the order `promptPlacement` gives,
    /// then padding rows, which are zero); nil unless requested.
    public var inputs: Tensor?
    /// dL/dprompts[b] `[B, m, C]`, one slice per example, after a per-example forward
    /// (`forward(_:prompts:normalize:)`); nil otherwise. `prompt` is then their sum.
    public var promptPerExample: Tensor?

    public init(prompt: Tensor?, inputs: Tensor?, promptPerExample: Tensor? = nil) {
        self.prompt = prompt
        self.inputs = inputs
        self.promptPerExample = promptPerExample
    }
}
