using RichLazyOrleans.Training;
using Xunit.Abstractions;

namespace RichLazyOrleans.Training.Tests;

public class TeacherStudentTests(ITestOutputHelper output)
{
    internal static TeacherStudentConfig Small(double tau = 0.5, double alpha = 1.2, long steps = 200,
        long[]? checkpoints = null, ulong seed = 7) => new()
    {
        Tau = tau,
        Alpha = alpha,
        Seed = seed,
        N = 30,
        D = 6,
        M = 8,
        M0 = 2,
        NTest = 40,
        Lr = 5e-3 / (tau * tau) * 20,   // larger than the paper's so 200 steps move the kernel
        Steps = steps,
        Checkpoints = checkpoints ?? [0, 1, 10, 50, steps],
    };

    private static void AssertClose(double expected, double actual, double rel, double abs, string what)
        => Assert.True(Math.Abs(expected - actual) <= rel * Math.Abs(expected) + abs,
            $"{what}: engine {actual:R}, reference {expected:R}");

    [Theory]
    [InlineData(0.5, 1.2)]
    [InlineData(0.2, 0.6)]
    [InlineData(1.0, 1.0)]
    public void Engine_matches_the_plain_loop_reference_to_1e_10(double tau, double alpha)
    {
        var c = Small(tau, alpha);
        var data = TeacherStudentData.Create(c);
        using var trainer = new TeacherStudentTrainer(c, data);
        var rows = trainer.Run();
        var reference = new Reference(data);
        long step = 0;
        foreach (var row in rows)
        {
            while (step < row.Step) { reference.Step(c.Lr); step++; }
            var e = reference.Metrics(step);
            Assert.Equal(e.Step, row.Step);
            AssertClose(e.TrainLoss, row.TrainLoss, 1e-10, 0, $"train loss at {step}");
            AssertClose(e.TestLoss, row.TestLoss, 1e-10, 0, $"test loss at {step}");
            AssertClose(e.KernelDistance, row.KernelDistance, 1e-10, 1e-15, $"kernel distance at {step}");
            Assert.Equal(e.HammingDistance, row.HammingDistance, 12);
            AssertClose(e.ParameterDistance, row.ParameterDistance, 1e-10, 1e-15, $"parameter distance at {step}");
            AssertClose(e.DeltaDrift, row.DeltaDrift, 1e-8, 1e-15, $"delta drift at {step}");
        }
        output.WriteLine($"tau={tau} alpha={alpha}: final {rows[^1]}");
        Assert.True(rows[^1].KernelDistance > 1e-4, "the test should move the kernel to mean something");
    }

    [Fact]
    public void Init_follows_the_protocol()
    {
        var c = Small(tau: 0.3, alpha: 0.7) with { M = 10, D = 12, N = 50 };
        var data = TeacherStudentData.Create(c);
        double delta = c.Delta;
        for (int k = 0; k < c.M; k++)
        {
            double w2 = 0;
            for (int j = 0; j < c.D; j++) w2 += data.W0[k * c.D + j] * data.W0[k * c.D + j];
            Assert.True(Math.Abs(data.A0[k] * data.A0[k] - w2 - delta) <= 1e-14, $"unit {k}: a^2 - |w|^2 != delta");
            Assert.Equal(c.Tau * c.Alpha, Math.Sqrt(w2), 14);
        }
        // Symmetrised: second half copies w and negates a, so f(x; θ₀) ≡ 0 on every input.
        for (int k = 0; k < c.M / 2; k++)
        {
            Assert.Equal(-data.A0[k], data.A0[k + c.M / 2]);
            Assert.Equal(data.W0.AsSpan(k * c.D, c.D).ToArray(), data.W0.AsSpan((k + c.M / 2) * c.D, c.D).ToArray());
        }
        for (int i = 0; i < c.N; i++)
        {
            double norm = 0;
            for (int j = 0; j < c.D; j++) norm += data.X[i * c.D + j] * data.X[i * c.D + j];
            Assert.Equal(1.0, norm, 14);
        }
        using var trainer = new TeacherStudentTrainer(c with { Steps = 0, Checkpoints = [0] }, data);
        var row = Assert.Single(trainer.Run());
        Assert.Equal(data.Y.Average(v => v * v), row.TrainLoss, 14);   // f ≡ 0
        Assert.Equal(0.0, row.KernelDistance);
        Assert.Equal(0.0, row.HammingDistance);
        Assert.Equal(0.0, row.ParameterDistance);
        Assert.Equal(0.0, row.DeltaDrift);
    }

    [Fact]
    public void Delta_drift_shrinks_with_the_learning_rate()
    {
        // Same training time t = lr·steps; GD breaks the conservation law at O(lr).
        var drifts = new List<double>();
        foreach (int factor in new[] { 1, 4, 16 })
        {
            var c = Small() with { Lr = 0.4 / factor, Steps = 100 * factor, Checkpoints = [100 * factor] };
            using var trainer = new TeacherStudentTrainer(c, TeacherStudentData.Create(c));
            drifts.Add(trainer.Run()[0].DeltaDrift);
        }
        output.WriteLine("delta drift at t = 40 for lr = 0.4, 0.1, 0.025: " +
            $"{string.Join(", ", drifts.Select(x => x.ToString("G3")))}");
        Assert.True(drifts[1] < drifts[0] / 2 && drifts[2] < drifts[1] / 2, string.Join(", ", drifts));
    }

    [Fact]
    public void Same_spec_and_seed_give_bit_identical_rows_and_other_seeds_differ()
    {
        var c = Small();
        List<TeacherStudentRow> Run(TeacherStudentConfig cfg)
        {
            using var t = new TeacherStudentTrainer(cfg, TeacherStudentData.Create(cfg));
            return t.Run().ToList();
        }
        Assert.Equal(Run(c), Run(c));
        Assert.NotEqual(Run(c)[^1].TrainLoss, Run(c with { Seed = 8 })[^1].TrainLoss);
    }

    [Fact]
    public void Small_tau_moves_the_kernel_more_than_large_tau()
    {
        var results = new List<(double Tau, double Kernel, double Test)>();
        foreach (double tau in new[] { 0.1, 0.3, 2.0 })
        {
            // The paper's lr = base_lr/τ² (base_lr = 5e-3): the same number of steps covers the same rescaled time.
            var c = new TeacherStudentConfig { Tau = tau, Alpha = 1, Seed = 1, N = 100, D = 10, M = 20, M0 = 3,
                NTest = 500, Lr = 5e-3 / (tau * tau), Steps = 20000, Checkpoints = [20000] };
            using var t = new TeacherStudentTrainer(c, TeacherStudentData.Create(c));
            var row = t.Run()[0];
            results.Add((tau, row.KernelDistance, row.TestLoss));
        }
        output.WriteLine(string.Join("; ",
            results.Select(r => $"tau={r.Tau}: kernel distance {r.Kernel:G3}, test loss {r.Test:G3}")));
        Assert.True(results[0].Kernel > results[2].Kernel, "small tau should move the kernel more");
        Assert.True(results[1].Kernel > results[2].Kernel);
    }

    [Fact]
    public void A_diverging_run_stops_with_status_diverged()
    {
        var c = Small() with { Lr = 500, Steps = 1000, Checkpoints = [0, 1000] };
        using var t = new TeacherStudentTrainer(c, TeacherStudentData.Create(c));
        var rows = t.Run();
        Assert.Equal("diverged", rows[^1].Status);
        Assert.True(rows[^1].Step < 1000);
        Assert.Equal("ok", rows[0].Status);
    }

    [Fact]
    public void Float32_follows_float64_closely()
    {
        var c = Small();
        using var t64 = new TeacherStudentTrainer(c, TeacherStudentData.Create(c));
        using var t32 = new TeacherStudentTrainer(c with { Float32 = true }, TeacherStudentData.Create(c));
        var r64 = t64.Run();
        var r32 = t32.Run();
        for (int i = 0; i < r64.Count; i++)
            AssertClose(r64[i].TrainLoss, r32[i].TrainLoss, 1e-4, 1e-9, $"float32 train loss at {r64[i].Step}");
    }

    [Fact]
    public void Cuda_request_without_cuda_is_a_clear_error()
    {
        if (TorchSharp.torch.cuda.is_available()) return; // only meaningful on CPU-only machines
        var c = Small() with { Device = "cuda:0" };
        var e = Assert.Throws<SpecException>(() => new TeacherStudentTrainer(c, TeacherStudentData.Create(c)));
        Assert.Equal("device", e.Key);
    }
}
