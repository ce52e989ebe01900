import ArgumentParser

@main
struct PVec: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pvec",
        abstract: "A content-addressed registry and toolkit for soft prompts.",
        discussion: """
        Prompts, seeded inits and task prompt vectors are stored by content hash with their
        lineage. Names (mnli, mnli@2) point at ids; any unique id prefix works as a name.
        Example: pvec add mnli qnli --lambda 0.5 --name both
        """,
        version: "0.1.0",
        subcommands: [
            Init.self, InitPrompt.self, Import.self, Export.self,
            Vector.self, Add.self, Sub.self, Neg.self, Scale.self, Merge.self, Cos.self, Norm.self,
            Similar.self, InitFrom.self,
            Show.self, Ls.self, Lineage.self, Log.self, Tag.self, Verify.self, GC.self,
            Embed.self, Train.self, Eval.self, Demo.self,
            Attempt.self, Attention.self, AMP.self, ComPT.self, MetaInit.self,
            Bundle.self, Key.self, Sign.self, Trust.self, Audit.self, Serve.self, Token.self,
            Remote.self, Push.self, Pull.self, Clone.self,
        ]
    )
}
