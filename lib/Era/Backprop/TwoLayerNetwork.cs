namespace Era.Backprop;

/// <summary>Every intermediate value of one forward pass, named as in the course spreadsheet.</summary>
public readonly record struct ForwardPass(
    double H1, double AH1, double H2, double AH2,
    double O1, double AO1, double O2, double AO2,
    double E1, double E2, double ETotal);

/// <summary>
/// The 2-2-2 network: two inputs, two sigmoid hidden units, two sigmoid outputs, squared error.
/// All arithmetic is float64, in the same order as the spreadsheet formulas so the numbers agree to the last bit
/// wherever a spreadsheet evaluates in IEEE double precision.
/// </summary>
public static class TwoLayerNetwork
{
    public static double Sigmoid(double x) => 1.0 / (1.0 + Math.Exp(-x));

    public static ForwardPass Forward(in NetworkConfig c, in Weights w)
    {
        double h1 = w.W1 * c.I1 + w.W2 * c.I2 + c.B1;
        double ah1 = Sigmoid(h1);
        double h2 = w.W3 * c.I1 + w.W4 * c.I2 + c.B1;
        double ah2 = Sigmoid(h2);
        double o1 = w.W5 * ah1 + w.W6 * ah2 + c.B2;
        double ao1 = Sigmoid(o1);
        double o2 = w.W7 * ah1 + w.W8 * ah2 + c.B2;
        double ao2 = Sigmoid(o2);
        double e1 = 0.5 * (c.T1 - ao1) * (c.T1 - ao1);
        double e2 = 0.5 * (c.T2 - ao2) * (c.T2 - ao2);
        return new ForwardPass(h1, ah1, h2, ah2, o1, ao1, o2, ao2, e1, e2, e1 + e2);
    }

    /// <summary>
    /// ∂E_total/∂w1..w8 in the closed forms students derive by the chain rule.
    /// δo = ∂E/∂o = (a_o − t)·a_o·(1 − a_o): the error times the sigmoid's slope σ'(o) = a_o(1 − a_o).
    /// A hidden unit feeds both outputs, so its gradient sums the two paths.
    /// </summary>
    public static Weights Gradients(in NetworkConfig c, in Weights w, in ForwardPass f)
    {
        double dO1 = (f.AO1 - c.T1) * f.AO1 * (1 - f.AO1);
        double dO2 = (f.AO2 - c.T2) * f.AO2 * (1 - f.AO2);
        double dH1 = (dO1 * w.W5 + dO2 * w.W7) * f.AH1 * (1 - f.AH1);
        double dH2 = (dO1 * w.W6 + dO2 * w.W8) * f.AH2 * (1 - f.AH2);
        return new Weights(
            dH1 * c.I1, dH1 * c.I2, dH2 * c.I1, dH2 * c.I2,
            dO1 * f.AH1, dO1 * f.AH2, dO2 * f.AH1, dO2 * f.AH2);
    }

    /// <summary>E_total as a function of the weights alone, for finite-difference checks.</summary>
    public static double Loss(in NetworkConfig c, in Weights w) => Forward(c, w).ETotal;
}
