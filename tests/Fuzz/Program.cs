// AFL++ entry point (SharpFuzz). Usage, from the build output or the instrumented copy `make fuzz` makes:
//   MultiModal.Tests.Fuzz <target>                 under afl-fuzz: one input per run on stdin (persistent, out of process)
//   MultiModal.Tests.Fuzz <target> <file>...       runs each file once and prints what escaped (reproduces a crash)
//   MultiModal.Tests.Fuzz seeds [corpus-dir]       writes the seed inputs (default tests/Fuzz/corpus)
//   MultiModal.Tests.Fuzz list                     the target names and what each does
using MultiModal.Tests.Fuzz;
using SharpFuzz;

switch (args)
{
    case ["list"]:
        foreach (var name in FuzzTargets.Names)
            Console.WriteLine($"{name,-18} {FuzzTargets.Get(name).Description}");
        return 0;
    case ["seeds", .. var rest]:
        Seeds.Write(rest is [var dir] ? dir : Path.Combine(FuzzAssets.RepoRoot, "tests", "Fuzz", "corpus"));
        return 0;
    case [var name]:
        if (!FuzzTargets.Names.Contains(name))
            throw new ArgumentException($"no fuzz target '{name}'; targets: {string.Join(", ", FuzzTargets.Names)}");
        // Created inside the first run: instrumented code (a target's set-up) may only run once SharpFuzz has
        // attached AFL's coverage map, and that happens in Run, in the child process.
        IFuzzTarget? target = null;
        Fuzzer.OutOfProcess.Run(stream =>
        {
            target ??= FuzzTargets.Get(name);
            using var input = new MemoryStream();
            stream.CopyTo(input);
            target.Run(input.GetBuffer().AsSpan(0, (int)input.Length));
        });
        return 0;
    case [var name, .. var files]:
        var failed = 0;
        foreach (var file in files)
        {
            try
            {
                FuzzTargets.Get(name).Run(File.ReadAllBytes(file));
                Console.WriteLine($"ok     {file}");
            }
            catch (Exception e)
            {
                failed++;
                Console.WriteLine($"CRASH  {file}: {e}");
            }
        }
        return failed == 0 ? 0 : 1;
    default:
        Console.Error.WriteLine("usage: MultiModal.Tests.Fuzz list | seeds [dir] | <target> [file...]");
        return 2;
}
