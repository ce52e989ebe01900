import ArgumentParser
import Foundation
import PVecStore

/// Shell completion of registry names (the scripts come from `pvec --generate-completion-script`).
///
/// On TAB the shell runs `pvec ---completion <subcommand…> -- <argument> <index> <cursor>
/// <words…>`, and argument-parser hands the words to these closures. They open the registry
/// the command line names (`--registry PATH`, else `$PVEC_REGISTRY`, else `~/.pvec`)
/// read-only and offer the names `pvec ls` shows. Completion must be cheap and silent: any
/// failure (no registry there, a locked catalog) gives no candidates and prints nothing.
///
/// ```swift
/// @Argument(help: "The vector to negate.", completion: NameCompletion.names) var a: String
/// ```
enum NameCompletion {
    /// One registry name.
    static let names = CompletionKind.custom { words, index, prefix in
        candidates(for: typed(words, index, prefix), among: registryNames(words))
    }

    /// A comma-separated list of names (`--sources a,b`): completes the part after the last comma.
    static let nameList = CompletionKind.custom { words, index, prefix in
        let typed = typed(words, index, prefix)
        let head = typed.lastIndex(of: ",").map { String(typed[...$0]) } ?? ""
        return candidates(for: String(typed.dropFirst(head.count)), among: registryNames(words)).map { head + $0 }
    }

    /// What has been typed of the word being completed. argument-parser takes the prefix from
    /// the last word, which is that word only when the cursor is at the end of the line; the
    /// word at `index` is used instead when the prefix does not begin it.
    static func typed(_ words: [String], _ index: Int, _ prefix: String) -> String {
        guard words.indices.contains(index) else { return prefix }
        return words[index].hasPrefix(prefix) ? prefix : words[index]
    }

    static func candidates(for prefix: String, among names: [String]) -> [String] {
        names.filter { $0.hasPrefix(prefix) }
    }

    /// The names in the registry `words` point at; empty on any failure.
    static func registryNames(_ words: [String]) -> [String] {
        let root = Registry.location(explicit: registryArgument(words))
        guard let registry = try? Registry.open(at: root, configuration: RegistryConfiguration(busyTimeout: 0.5, readonly: true)),
              let refs = try? registry.refs() else { return [] }
        // Names are checked when made; one that would act on a terminal is left out all the same.
        return refs.map(\.name).filter { TerminalText.firstUnsafe($0) == nil }
    }

    /// The value of `--registry` among the shell words (`--registry P` or `--registry=P`),
    /// with one layer of shell quotes removed.
    static func registryArgument(_ words: [String]) -> String? {
        var value: String?
        for (i, w) in words.enumerated() {
            if w == "--registry", i + 1 < words.count {
                value = words[i + 1]
            } else if w.hasPrefix("--registry=") {
                value = String(w.dropFirst("--registry=".count))
            }
        }
        return value.map(unquoted)
    }

    static func unquoted(_ w: String) -> String {
        for q in ["'", "\""] where w.count >= 2 && w.hasPrefix(q) && w.hasSuffix(q) {
            return String(w.dropFirst().dropLast())
        }
        return w.replacingOccurrences(of: "\\ ", with: " ")
    }
}
