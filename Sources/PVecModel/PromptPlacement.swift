/// Where a soft prompt's rows go in a backbone's input sequence.
///
/// - `prepend`: before every token, `P₁ … Pₘ [CLS] tokens… [SEP]`, as PEFT's prompt tuning
///   does (it concatenates the virtual tokens in front of `inputs_embeds`).
/// - `afterCLS`: right after `[CLS]`, `[CLS] P₁ … Pₘ tokens… [SEP]`, pvec's first placement;
///   a recipe that records no placement means this one.
///
/// Both give prompt rows the position embeddings of the positions they occupy and token type 0,
/// and both pool over the same rows (every real position, prompt rows included), so only the
/// order of the sequence differs.
public enum PromptPlacement: String, Sendable, CaseIterable, Codable {
    case prepend
    case afterCLS = "after-cls"

    /// The placement `pvec train` uses when none is given.
    public static let defaultForNewPrompts: PromptPlacement = .prepend

    /// The placement a recipe that records none meant (everything made before placements existed).
    public static let recordedDefault: PromptPlacement = .afterCLS

    /// Index of the first prompt row in a sequence.
    public var firstPromptRow: Int {
        switch self {
        case .prepend: return 0
        case .afterCLS: return 1
        }
    }
}
