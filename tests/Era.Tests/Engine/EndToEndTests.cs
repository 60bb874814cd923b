using Era.Engine;
using Era.Engine.Optim;
using Era.Engine.Training;

namespace Era.Tests.Engine;

/// <summary>The whole chain (layers, loss, backward, optimizer) learns: a tiny CNN memorizes a small batch.</summary>
[Collection(EngineCollection.Name)] // seeds the global generator / sets the thread count
public class EndToEndTests
{
    [Fact]
    public void TinyCnnOverfitsASmallBatch()
    {
        torch.manual_seed(0);
        var model = TrainingTests.TinyCnn();
        var data = TrainingTests.RandomImages(20, new Generator(3)); // random images, arbitrary labels: pure memorization
        var trainer = new Trainer(model, new Adam<float>(model.parameters(), lr: 0.02));
        StepResult first = trainer.Step(data.Images, data.Labels), last = first;
        for (int i = 0; i < 150; i++) last = trainer.Step(data.Images, data.Labels);
        Assert.True(first.Correct <= 6, $"before training {first.Correct}/20 correct: the labels should not be predictable");
        Assert.Equal(20, last.Correct);
        Assert.True(last.Loss < 0.05 * first.Loss, $"loss {first.Loss} -> {last.Loss}");
        model.eval();
        Assert.Equal(20, Trainer.CountCorrect(model.Forward(data.Images), data.Labels)); // also with running BN statistics
    }

    [Fact]
    public void LossFallsMonotonicallyWithASmallLearningRate()
    {
        torch.manual_seed(1);
        var model = TrainingTests.TinyCnn();
        var data = TrainingTests.RandomImages(20, new Generator(4));
        var trainer = new Trainer(model, new SGD<float>(model.parameters(), lr: 0.01));
        double previous = double.PositiveInfinity;
        for (int i = 0; i < 40; i++)
        {
            double loss = trainer.Step(data.Images, data.Labels).Loss;
            Assert.True(loss < previous, $"step {i + 1}: loss {loss} did not fall below {previous}");
            previous = loss;
        }
    }
}
