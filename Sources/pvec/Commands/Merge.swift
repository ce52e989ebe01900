import ArgumentParser
import PVecOps

extension PVec {
    struct Merge: ParsableCommand {
        /// The merge methods, as typed.
        enum Method: String, ExpressibleByArgument, CaseIterable {
            case linear
            case taskArithmetic = "task-arithmetic"
            case ties, dare, slerp
            case magnitudePrune = "magnitude-prune"
        }

        static let configuration = CommandConfiguration(
            abstract: "Merge task prompt vectors (or prompts) with a recorded recipe.",
            discussion: """
            A prompt with a recorded init stands for its task vector tau, except in
            linear and slerp --raw, which take tensors as stored (prompts give a
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
            Weights and --lambda (task-arithmetic, ties, dare) default to 1. The recipe
            (op merge) records method, parameters and seed, the operands are parents in
            order, and `pvec verify` recomputes the result bit for bit.
            Example: pvec merge ties mnli qnli sst2 --density 0.2 --name nli-ties
            """)

        @OptionGroup var global: GlobalOptions
        @Argument(help: ArgumentHelp("The method.", valueName: "method")) var method: Method
        @Argument(help: "Vectors (or prompts) to merge, in order.") var operands: [String] = []
        @Option(help: ArgumentHelp("Comma-separated weights, one per operand (linear, task-arithmetic).", valueName: "w1,w2,..."))
        var weights: String?
        @Option(name: .customLong("lambda"), help: "Scale of the result (task-arithmetic, ties, dare).") var lambda: Double?
        @Option(help: "Fraction of entries kept, in [0, 1] (ties, magnitude-prune).") var density: Double?
        @Option(help: "Drop probability, in [0, 1) (dare).") var drop: Double?
        @Option(help: "Seed of the drop mask, below 2^53 (dare).") var seed: UInt64?
        @Flag(help: "Merge the sparsified vectors with TIES sign election (dare).") var ties = false
        @Option(name: .customLong("t"), help: "Interpolation parameter; 0 gives A, 1 gives B (slerp).") var t: Double?
        @Flag(help: "Interpolate the stored tensors instead of task vectors (slerp).") var raw = false
        @Option(help: "Name for the result.") var name: String?

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

        func validate() throws {
            func only(_ flag: String, _ given: Bool, for methods: [Method]) throws {
                if given && !methods.contains(method) {
                    throw ValidationError("Please drop \(flag): it applies to \(methods.map(\.rawValue).joined(separator: " and ")), not \(method.rawValue).")
                }
            }
            try only("--weights", weights != nil, for: [.linear, .taskArithmetic])
            try only("--lambda", lambda != nil, for: [.taskArithmetic, .ties, .dare])
            try only("--density", density != nil, for: [.ties, .magnitudePrune])
            try only("--drop", drop != nil, for: [.dare])
            try only("--seed", seed != nil, for: [.dare])
            try only("--ties", ties, for: [.dare])
            try only("--t", t != nil, for: [.slerp])
            try only("--raw", raw, for: [.slerp])
            switch method {
            case .slerp:
                guard operands.count == 2 else { throw ValidationError("Please name exactly two artifacts to slerp between.") }
            case .magnitudePrune:
                guard operands.count == 1 else { throw ValidationError("Please name exactly one vector to prune.") }
            default:
                guard operands.count >= 2 else { throw ValidationError("Please name at least two artifacts to merge.") }
            }
            if let w = try parsedWeights() {
                guard w.count == operands.count else {
                    throw ValidationError("Please give one weight per operand: \(operands.count) operands, \(w.count) weights.")
                }
                if method == .linear, w.reduce(0, +) == 0 {
                    throw ValidationError("Please give weights with a non-zero sum.")
                }
            }
            if let lambda, !lambda.isFinite { throw ValidationError("Please give a finite --lambda.") }
            if method == .ties || method == .magnitudePrune {
                guard let density else { throw ValidationError("Please give --density D, the fraction of entries kept (e.g. 0.2).") }
                guard density >= 0, density <= 1 else { throw ValidationError("Please give a --density between 0 and 1.") }
            }
            if method == .dare {
                guard let drop else { throw ValidationError("Please give --drop P, the drop probability (e.g. 0.9).") }
                guard drop >= 0, drop < 1 else { throw ValidationError("Please give a --drop of at least 0 and below 1.") }
                if let seed, seed >= (1 << 53) { throw ValidationError("Please give a --seed below 2^53.") }
            }
            if method == .slerp {
                guard let t else { throw ValidationError("Please give --t T, where 0 gives the first artifact and 1 the second.") }
                guard t.isFinite else { throw ValidationError("Please give a finite --t.") }
            }
        }

        /// The recipe the options describe (after `validate`).
        func recipe() throws -> MergeRecipe {
            let w = try parsedWeights() ?? [Double](repeating: 1, count: operands.count)
            switch method {
            case .linear: return .linear(weights: w)
            case .taskArithmetic: return .taskArithmetic(weights: w, lambda: lambda ?? 1)
            case .ties: return .ties(density: density!, lambda: lambda ?? 1)
            case .dare: return .dare(drop: drop!, seed: seed ?? 0, lambda: lambda ?? 1, ties: ties)
            case .slerp: return .slerp(t: t!)
            case .magnitudePrune: return .magnitudePrune(density: density!)
            }
        }

        func run() throws {
            let registry = try global.open()
            let s = try registry.merge(operands, recipe: try recipe(), raw: raw, name: name, command: GlobalOptions.commandLine)
            Output.report(s, json: global.json)
        }
    }
}
