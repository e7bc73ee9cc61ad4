using System.Diagnostics;
using System.Globalization;

namespace MultiModal.Training.Loop;

/// <summary>
/// One line of progress on stderr: bar, step, loss (EMA), learning rate, seconds per step and ETA. On a terminal the line
/// is redrawn in place (at most 4 times a second); when stderr is redirected one line is written every 5 %.
/// </summary>
public sealed class ProgressBar(string label, int totalSteps, int firstStep = 0)
{
    private const int Width = 28;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly bool _interactive = !Console.IsErrorRedirected;
    private TimeSpan _lastDraw = TimeSpan.MinValue;
    private int _lastPercentBucket = -1;
    private double? _ema;

    public void Report(int step, double loss, double learningRate)
    {
        _ema = _ema is null ? loss : 0.95 * _ema + 0.05 * loss;
        var done = step + 1;
        var elapsed = _clock.Elapsed;
        var perStep = elapsed.TotalSeconds / Math.Max(1, done - firstStep);
        var eta = TimeSpan.FromSeconds(perStep * (totalSteps - done));
        var filled = (int)((long)Width * done / totalSteps);
        var line = string.Create(CultureInfo.InvariantCulture,
            $"{label} [{new string('#', filled)}{new string('-', Width - filled)}] {done}/{totalSteps} loss {_ema:F4} lr {learningRate:E2} {perStep:F2} s/step ETA {eta:hh\\:mm\\:ss}");
        var bucket = (int)(20L * done / totalSteps);
        if (_interactive && (elapsed - _lastDraw > TimeSpan.FromMilliseconds(250) || done == totalSteps))
        {
            Console.Error.Write("\r" + line);
            _lastDraw = elapsed;
            if (done == totalSteps)
                Console.Error.WriteLine();
        }
        else if (!_interactive && (bucket != _lastPercentBucket || done == totalSteps))
        {
            Console.Error.WriteLine(line);
            _lastPercentBucket = bucket;
        }
    }

    public TimeSpan Elapsed => _clock.Elapsed;
}
