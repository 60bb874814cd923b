using Era.Engine;
using Era.Engine.Optim;

namespace Era.Tests.Engine;

/// <summary>
/// Optimizer steps against PyTorch: the expected parameter values were produced by
/// Reference/optim_reference.py with python3-torch 1.13.0 (Debian) and are pinned here.
/// </summary>
public class OptimizerTests
{
    private static readonly float[] P0 = [0.5f, -1.0f, 2.0f, 0.0f];
    private static readonly float[][] Grads = [[0.1f, -0.2f, 0.3f, 1.0f], [0.05f, 0.4f, -0.3f, 0.5f], [-0.2f, 0.1f, 0.25f, -1.5f], [0.3f, -0.05f, 0.0f, 2.0f]];

    public static TheoryData<string> Cases => new(Expected.Keys);

    private static readonly Dictionary<string, (Func<Parameter<float>[], Optimizer<float>> Make, double[] Values)> Expected = new()
    {
        ["SGD lr 0.1"] = (ps => new SGD<float>(ps, lr: 0.1),
            [0.49000000953674316, -0.9800000190734863, 1.9700000286102295, -0.10000000149011612, 0.48500001430511475, -1.0199999809265137, 2.0, -0.15000000596046448, 0.5049999952316284, -1.0299999713897705, 1.975000023841858, -3.725290298461914e-09, 0.4749999940395355, -1.024999976158142, 1.975000023841858, -0.20000000298023224]),
        ["SGD lr 0.1 momentum 0.9"] = (ps => new SGD<float>(ps, lr: 0.1, momentum: 0.9),
            [0.49000000953674316, -0.9800000190734863, 1.9700000286102295, -0.10000000149011612, 0.47600001096725464, -1.0019999742507935, 1.9730000495910645, -0.23999999463558197, 0.48340001702308655, -1.0318000316619873, 1.950700044631958, -0.21599999070167542, 0.4600600004196167, -1.0536199808120728, 1.930630087852478, -0.3944000005722046]),
        ["SGD lr 0.1 momentum 0.9 dampening 0.5"] = (ps => new SGD<float>(ps, lr: 0.1, momentum: 0.9, dampening: 0.5),
            [0.49000000953674316, -0.9800000190734863, 1.9700000286102295, -0.10000000149011612, 0.47850000858306885, -0.9819999933242798, 1.9580000638961792, -0.2150000035762787, 0.47815001010894775, -0.9887999892234802, 1.9347000122070312, -0.2434999942779541, 0.46283501386642456, -0.9924200177192688, 1.9137300252914429, -0.36914998292922974]),
        ["SGD lr 0.1 momentum 0.9 nesterov"] = (ps => new SGD<float>(ps, lr: 0.1, momentum: 0.9, nesterov: true),
            [0.48100000619888306, -0.9620000123977661, 1.9429999589920044, -0.1899999976158142, 0.4634000062942505, -1.0218000411987305, 1.9757000207901, -0.3659999966621399, 0.4900600016117096, -1.0586200952529907, 1.9306299686431885, -0.19439999759197235, 0.439054012298584, -1.0732580423355103, 1.9125670194625854, -0.5549600124359131]),
        ["SGD lr 0.1 momentum 0.9 weight_decay 0.01"] = (ps => new SGD<float>(ps, lr: 0.1, momentum: 0.9, weight_decay: 0.01),
            [0.4894999861717224, -0.9789999723434448, 1.968000054359436, -0.10000000149011612, 0.4745604991912842, -0.9991209506988525, 1.96723210811615, -0.23989999294281006, 0.48064038157463074, -1.0262306928634644, 1.9395736455917358, -0.2155700922012329, 0.45563164353370667, -1.0446032285690308, 1.9127414226531982, -0.3934576213359833]),
        ["Adam lr 0.01"] = (ps => new Adam<float>(ps, lr: 0.01),
            [0.49000000953674316, -0.9900000095367432, 1.9900000095367432, -0.009999999776482582, 0.4806782007217407, -0.9936610460281372, 1.9905263185501099, -0.01932179555296898, 0.4827417731285095, -0.9978175759315491, 1.987631916999817, -0.018502026796340942, 0.4791477620601654, -1.0005712509155273, 1.9852609634399414, -0.0222890917211771]),
        ["Adam lr 0.01 weight_decay 0.1"] = (ps => new Adam<float>(ps, lr: 0.01, weight_decay: 0.1),
            [0.49000000953674316, -0.9900000095367432, 1.9900000095367432, -0.009999999776482582, 0.48030805587768555, -0.9905429482460022, 1.9849063158035278, -0.01931886374950409, 0.4787159264087677, -0.990976870059967, 1.97773015499115, -0.01848999224603176, 0.4731709659099579, -0.9893862009048462, 1.9704605340957642, -0.022268375381827354]),
        ["Adam lr 0.01 betas (0.8, 0.99) amsgrad"] = (ps => new Adam<float>(ps, lr: 0.01, beta1: 0.8, beta2: 0.99, amsgrad: true),
            [0.49000000953674316, -0.9900000095367432, 1.9900000095367432, -0.010000000707805157, 0.4808507263660431, -0.9942100644111633, 1.991111159324646, -0.01914927363395691, 0.48381635546684265, -0.998736560344696, 1.988197684288025, -0.01740701124072075, 0.47982993721961975, -1.0014433860778809, 1.985978603363037, -0.021429594606161118]),
        ["AdamW lr 0.01 weight_decay 0.1"] = (ps => new AdamW<float>(ps, lr: 0.01, weight_decay: 0.1),
            [0.4895000159740448, -0.9890000224113464, 1.9880000352859497, -0.009999999776482582, 0.47968870401382446, -0.9916720986366272, 1.9865384101867676, -0.019311796873807907, 0.4812726080417633, -0.9948369860649109, 1.9816575050354004, -0.018472716212272644, 0.4771973192691803, -0.9965957999229431, 1.9773049354553223, -0.02224130928516388]),
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void MatchesPyTorch(string name)
    {
        var (make, expected) = Expected[name];
        var p = new Parameter<float>(new Tensor<float>((float[])P0.Clone(), 4));
        var opt = make([p]);
        for (int step = 0; step < Grads.Length; step++)
        {
            opt.zero_grad();
            Grads[step].CopyTo(p.Grad.Data, 0);
            opt.step();
            for (int i = 0; i < 4; i++)
            {
                double want = expected[step * 4 + i];
                Assert.True(Math.Abs(p.Value.Data[i] - want) <= 1e-6 * Math.Max(1, Math.Abs(want)),
                    $"{name}: step {step + 1}, element {i}: got {p.Value.Data[i]:R}, PyTorch {want:R}");
            }
        }
    }

    [Fact]
    public void StepDoesNotChangeTheGradientAndSkipsFrozenParameters()
    {
        var p = new Parameter<float>(new Tensor<float>([1f, 2f], 2));
        var frozen = new Parameter<float>(new Tensor<float>([3f], 1)) { RequiresGrad = false };
        p.Grad.Data[0] = 1f;
        p.Grad.Data[1] = -1f;
        frozen.Grad.Data[0] = 5f;
        var opt = new SGD<float>([p, frozen], lr: 0.5, momentum: 0.9, weight_decay: 0.1, nesterov: true);
        opt.step();
        Assert.Equal([1f, -1f], p.Grad.Data);
        Assert.Equal(3f, frozen.Value.Data[0]);
        opt.zero_grad();
        Assert.All(p.Grad.Data, g => Assert.Equal(0f, g));
    }

    [Fact]
    public void SteadyStateStepAllocatesNothing()
    {
        var ps = Enumerable.Range(0, 4).Select(i => new Parameter<float>(new Tensor<float>(1000))).ToArray();
        foreach (var p in ps) p.Grad.Fill(0.01f);
        Optimizer<float>[] opts = [new SGD<float>(ps, lr: 0.1, momentum: 0.9, weight_decay: 1e-4, nesterov: true), new AdamW<float>(ps, amsgrad: true)];
        foreach (var opt in opts)
        {
            opt.step(); // the first SGD step allocates the momentum buffers, as torch's
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 10; i++)
            {
                opt.zero_grad();
                opt.step();
            }
            Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        }
    }

    [Fact]
    public void BadHyperparametersAreRejected()
    {
        var p = new Parameter<float>(new Tensor<float>(1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new SGD<float>([p], lr: -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new SGD<float>([p], lr: double.NaN));
        Assert.Throws<ArgumentException>(() => new SGD<float>([p], lr: 0.1, nesterov: true));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Adam<float>([p], beta1: 1.0));
        Assert.Throws<ArgumentException>(() => new SGD<float>([], lr: 0.1));
    }
}
