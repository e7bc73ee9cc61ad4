using System.Globalization;
using MultiModal.Cli.Images;
using MultiModal.Contracts.Diffusion.V1;
using Spectre.Console;

namespace MultiModal.Cli.Generate;

/// <summary>
/// What a person sees on stderr while a job runs. On a terminal: one live Spectre progress bar whose label reads
/// <c>queued: position 2, ~3 s</c> while the job waits, then <c>step 7/20 · 3.1 steps/s · ETA 4 s</c>; inline previews
/// above it when the terminal shows images. Elsewhere (a pipe, a log): one plain line per event.
/// </summary>
internal sealed class GenerateView(IAnsiConsole console, InlineProtocol inline)
{
    private ProgressTask? _task;
    // The first progress event seen: steps/s is measured from it, so prompt encoding (in the server's elapsed time
    // before step 1) does not drag the rate down for the whole run.
    private (uint Step, TimeSpan Elapsed)? _first;

    public bool Live => console.Profile.Capabilities.Interactive;

    /// <summary>Runs <paramref name="body"/> with the bar shown (on a terminal) and removes nothing when it ends.</summary>
    public async Task RunAsync(Func<Task> body)
    {
        if (!Live)
        {
            await body();
            return;
        }
        await console.Progress()
            .AutoClear(false)
            .HideCompleted(false)
            .Columns(new ProgressBarColumn(), new PercentageColumn(), new TaskDescriptionColumn { Alignment = Justify.Left })
            .StartAsync(async context =>
            {
                _task = context.AddTask("connecting", maxValue: 1);
                await body();
            });
    }

    public void Queued(Queued queued)
    {
        var wait = queued.EstimatedWait is { } estimate ? $", ~{Seconds(estimate.ToTimeSpan())}" : "";
        Show($"queued: position {queued.Position}{wait}");
    }

    public void Step(MultiModal.Contracts.Diffusion.V1.Progress progress)
    {
        var elapsed = progress.Elapsed?.ToTimeSpan() ?? TimeSpan.Zero;
        _first ??= (progress.Step, elapsed);
        var (firstStep, firstElapsed) = _first.Value;
        var rate = progress.Step > firstStep && elapsed > firstElapsed
            ? (progress.Step - firstStep) / (elapsed - firstElapsed).TotalSeconds
            : elapsed > TimeSpan.Zero ? progress.Step / elapsed.TotalSeconds : 0;
        var eta = progress.Eta is { } e ? Seconds(e.ToTimeSpan()) : "?";
        if (_task is not null)
        {
            _task.MaxValue = progress.TotalSteps;
            _task.Value = progress.Step;
        }
        Show($"step {progress.Step}/{progress.TotalSteps} · {rate.ToString("F1", CultureInfo.InvariantCulture)} steps/s · ETA {eta}");
    }

    /// <summary>Shows an image inline above the bar, when the terminal can.</summary>
    public void Image(ReadOnlySpan<byte> encoded)
    {
        if (InlineImages.Encode(inline, encoded) is { } sequence)
            console.Write(new ControlCode(sequence));
    }

    public void Done(string message)
    {
        if (_task is not null)
        {
            _task.Value = _task.MaxValue;
            _task.Description = Markup.Escape(message);
        }
        else
        {
            console.WriteLine(message);
        }
    }

    private void Show(string text)
    {
        if (_task is not null)
            _task.Description = Markup.Escape(text);
        else
            console.WriteLine(text);
    }

    private static string Seconds(TimeSpan span) =>
        span.TotalSeconds < 60
            ? $"{span.TotalSeconds.ToString("F0", CultureInfo.InvariantCulture)} s"
            : span.ToString(@"m\:ss", CultureInfo.InvariantCulture);
}
