namespace MultiModal.Models.Schedulers;

/// <summary>
/// The few numpy routines diffusers' <c>set_timesteps</c> uses, reproduced to the bit where it matters: timesteps are
/// compared for equality (img2img starts mid-schedule by looking a timestep up) and rounded half-to-even.
/// </summary>
internal static class NumpyMath
{
    /// <summary><c>np.linspace(start, stop, num)</c>: <c>i·step + start</c>, last element exactly <c>stop</c>.</summary>
    public static double[] Linspace(double start, double stop, int num)
    {
        var y = new double[num];
        var div = num - 1;
        var step = div > 0 ? (stop - start) / div : double.NaN;
        for (var i = 0; i < num; i++)
            y[i] = div > 0 ? i * step + start : i * (stop - start) + start;
        if (num > 1) y[^1] = stop;
        return y;
    }

    /// <summary>
    /// <c>np.arange(start, stop, step)</c> for floats: length <c>ceil((stop − start)/step)</c>, values
    /// <c>start + i·((start + step) − start)</c> as numpy's DOUBLE_fill computes them.
    /// </summary>
    public static double[] Arange(double start, double stop, double step)
    {
        var length = Math.Max(0, (long)Math.Ceiling((stop - start) / step));
        var y = new double[length];
        if (length == 0) return y;
        y[0] = start;
        if (length == 1) return y;
        var delta = start + step - start;
        y[1] = start + step;
        for (var i = 2; i < length; i++) y[i] = start + i * delta;
        return y;
    }

    /// <summary><c>np.round</c>: half to even.</summary>
    public static double Round(double x) => Math.Round(x, MidpointRounding.ToEven);

    /// <summary><c>np.interp(x, np.arange(len(fp)), fp)</c> in double.</summary>
    public static double Interp(double x, IReadOnlyList<double> fp)
    {
        var last = fp.Count - 1;
        if (x <= 0) return fp[0];
        if (x >= last) return fp[last];
        var j = (int)Math.Floor(x);
        if (j == x) return fp[j];
        var slope = (fp[j + 1] - fp[j]) / 1.0;
        return slope * (x - j) + fp[j];
    }

    /// <summary>Rounds a double to the nearest float32, as <c>.astype(np.float32)</c>.</summary>
    public static double ToFloat32(double x) => (float)x;
}
