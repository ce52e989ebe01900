import PVecStore

/// The recipe types of every op PVecTrain writes; `RecipeDecoder(TrainingRecipes.all)` reads them.
public enum TrainingRecipes {
    public static let all: [any TypedRecipe.Type] = [
        TrainRecipe.self, EvalRecipe.self,
        AttemptTargetRecipe.self, AttemptModuleRecipe.self, AttemptRecipe.self,
        AMPModuleRecipe.self, AMPRecipe.self,
        ComPTSourceRecipe.self, ComPTPrivateRecipe.self, ComPTRouterRecipe.self, ComPTRecipe.self,
        MetaInitRecipe.self,
    ]
}
