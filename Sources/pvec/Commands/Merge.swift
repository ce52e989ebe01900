import ArgumentParser
import Foundation
import PVecOps

extension PVec {
    struct Merge: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "merge",
            abstract: "Merge task prompt vectors (or prompts) with a recorded recipe.",
            discussion: """
            A prompt with a recorded init stands for its task vector tau, except in \
            linear and slerp --raw, which take tensors as stored (prompts give a \
            prompt).
              linear A B ... [--weights w1,w2,...]     sum(w_i x_i) / sum(w_i)
              task-arithmetic A B ... [--weights ...]  lambda * sum(w_i tau_i)
              ties A B ... --density D                 trim, elect sign, disjoint mean
              dare A B ... --drop P [--seed S] [--ties]
                                                       drop, rescale by 1/(1-P), then
                                                       sum (or TIES with --ties)
              slerp A B --t T [--raw]                  spherical interpolation of the
                                                       task vectors; --raw: as stored
              magnitude-prune A --density D            keep the largest D fraction
              iso-c A B ... [--lambda L]               Iso-C: the sum with its singular
                                                       values flattened to their mean
              tsv A B ... [--lambda L]                 TSV-M: each task's top rank/T
                                                       singular directions, orthogonalised
                                                       across tasks
              model-stock A B ...                      runs of one task from one init:
                                                       t * mean(tau), t = Nc / (1 + (N-1)c)
            Weights and --lambda (task-arithmetic, ties, dare, iso-c, tsv; the papers' \
            alpha) default to 1. The recipe (op merge) records method, parameters and \
            seed, the operands are parents in order, and `pvec verify` recomputes the \
            result bit for bit (iso-c and tsv use LAPACK's SVD: reproducible on one \
            machine, possibly not across CPUs; see docs/merges.md). model-stock gives a \
            vector; `pvec add RESULT --onto INIT` makes the prompt.
            Example: pvec merge ties mnli qnli sst2 --density 0.2 --name nli-ties
            Example: pvec merge iso-c mnli qnli sst2 --lambda 1.5 --name nli-iso
            """)

        @OptionGroup var global: GlobalOptions
        @Argument(help: ArgumentHelp("The method.", valueName: "method")) var method: MergeMethod
        @Argument(help: "Vectors (or prompts) to merge, in order.", completion: NameCompletion.names) var operands: [String] = []
        @Option(help: ArgumentHelp("Comma-separated weights, one per operand (linear, task-arithmetic).", valueName: "w1,w2,..."))
        var weights: String?
        @Option(name: .customLong("lambda"), help: "Scale of the result (task-arithmetic, ties, dare, iso-c, tsv).") var lambda: Double?
        @Option(help: "Fraction of entries kept, in [0, 1] (ties, magnitude-prune).") var density: Double?
        @Option(help: "Drop probability, in [0, 1) (dare).") var drop: Double?
        @Option(help: "Seed of the drop mask, below 2^53 (dare).") var seed: UInt64?
        @Flag(help: "Merge the sparsified vectors with TIES sign election (dare).") var ties = false
        @Option(name: .customLong("t"), help: "Interpolation parameter; 0 gives A, 1 gives B (slerp).") var t: Double?
        @Flag(help: "Interpolate the stored tensors instead of task vectors (slerp).") var raw = false
        @Option(help: "Name for the result.") var name: String?
        @OptionGroup var peft: PEFTOptions

        /// Parsed --weights; nil when absent.
        func parsedWeights() throws -> [Double]? {
            guard let weights else { return nil }
            let parts = weights.split(separator: ",", omittingEmptySubsequences: false)
            let values = parts.compactMap { Double($0.trimmingCharacters(in: .whitespaces)) }
            guard values.count == parts.count, values.allSatisfy(\.isFinite) else {
                throw ValidationError("Please give --weights as comma-separated numbers, e.g. --weights 0.5,0.3,0.2.")
            }
            return values
        }

        /// The request the options describe; the library checks it (`MergeRequest.recipe`).
        func request() throws -> MergeRequest {
            var r = MergeRequest(method: method, operandCount: operands.count)
            r.weights = try parsedWeights()
            r.lambda = lambda
            r.density = density
            r.drop = drop
            r.seed = seed
            r.ties = ties
            r.t = t
            r.raw = raw
            return r
        }

        func validate() throws {
            do {
                _ = try request().recipe()
            } catch let e as ValidationError {
                throw e
            } catch {
                throw ValidationError("Please fix the merge: \(error.localizedDescription).")
            }
        }

        func run() throws {
            let registry = try global.open()
            let s = try registry.merge(operands, recipe: try request().recipe(), raw: raw, name: name, command: GlobalOptions.commandLine, peftConfig: try peft.config())
            Output.report(s, json: global.json)
        }
    }
}
