import ArgumentParser
import Foundation
import PVecStore

extension PVec {
    struct Embed: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "embed",
            abstract: "Print backbone sentence embeddings (mean-pooled, L2-normalised).",
            discussion: """
            Matches sentence-transformers' all-MiniLM-L6-v2 output. With --file, one \
            sentence per line.
            Example: pvec embed "A cat sat on the mat."    pvec embed --file sentences.txt --json
            """)

        @OptionGroup var global: GlobalOptions
        @OptionGroup var modelOptions: ModelOptions
        @Option(help: "Read sentences from this file, one per line.", completion: .file()) var file: String?
        @Flag(help: "Print only a summary (count, sentences/s), not the vectors.") var quiet = false
        @Argument(help: "Sentences to embed.") var texts: [String] = []

        func validate() throws {
            if texts.isEmpty && file == nil { throw ValidationError("Please give sentences or --file PATH.") }
        }

        func run() throws {
            var sentences = texts
            if let file {
                let text = try String(contentsOfFile: file, encoding: .utf8)
                sentences += text.split(whereSeparator: \.isNewline).map(String.init).filter { !$0.isEmpty }
            }
            let encoder = try modelOptions.load()
            let start = Date()
            let vectors = try encoder.embed(texts: sentences)
            let seconds = Date().timeIntervalSince(start)
            if quiet {
                let rate = Double(sentences.count) / max(seconds, 1e-9)
                if global.json {
                    Output.json(["count": .int(Int64(sentences.count)), "seconds": .double(seconds), "sentences_per_second": .double(rate)])
                } else {
                    print(String(format: "%d sentences in %.2fs (%.1f sentences/s)", sentences.count, seconds, rate))
                }
                return
            }
            if global.json {
                Output.json(.array(zip(sentences, vectors).map { s, v in
                    ["text": .string(s), "embedding": .array(v.map { .double(Double($0)) })]
                }))
            } else {
                for v in vectors { print(v.map { String(format: "%.6f", $0) }.joined(separator: " ")) }
            }
        }
    }
}
