namespace Era.Tests.Engine;

/// <summary>
/// Engine tests share global state (torch.manual_seed, torch.set_num_threads, the worker team), so they run in
/// one collection with nothing else in parallel. Other engine test classes should use [Collection(EngineCollection.Name)].
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class EngineCollection
{
    public const string Name = "Engine (global torch state)";
}
