namespace MultiModal.Models.Schedulers;

/// <summary>
/// The inference timesteps of diffusers 0.25.1 <c>set_timesteps</c> for the three <c>timestep_spacing</c> modes
/// (Table 2 of arXiv:2305.08891), descending. Shared by classes whose Python is identical ("Copied from").
/// </summary>
internal static class TimestepSpacings
{
    /// <summary>DDIM / DDPM: integer timesteps.</summary>
    public static double[] Integer(SchedulerConfig config, int numInferenceSteps)
    {
        var T = config.NumTrainTimesteps;
        return config.TimestepSpacing switch
        {
            TimestepSpacing.Linspace => NumpyMath.Linspace(0, T - 1, numInferenceSteps).Select(NumpyMath.Round).Reverse().ToArray(),
            TimestepSpacing.Leading => Enumerable.Range(0, numInferenceSteps).Reverse()
                .Select(i => (double)(i * (T / numInferenceSteps) + config.StepsOffset)).ToArray(),
            TimestepSpacing.Trailing => NumpyMath.Arange(T, 0, -(T / (double)numInferenceSteps))
                .Select(t => NumpyMath.Round(t) - 1).ToArray(),
            _ => throw new NotSupportedException($"timestep_spacing {config.TimestepSpacing}"),
        };
    }

    /// <summary>Euler / Euler a / LMS: float32 timesteps (linspace ones are not whole numbers).</summary>
    public static double[] Float32(SchedulerConfig config, int numInferenceSteps)
    {
        var T = config.NumTrainTimesteps;
        return config.TimestepSpacing switch
        {
            TimestepSpacing.Linspace => NumpyMath.Linspace(0, T - 1, numInferenceSteps).Select(NumpyMath.ToFloat32).Reverse().ToArray(),
            TimestepSpacing.Leading => Enumerable.Range(0, numInferenceSteps).Reverse()
                .Select(i => (double)(float)(i * (T / numInferenceSteps)) + config.StepsOffset).Select(NumpyMath.ToFloat32).ToArray(),
            TimestepSpacing.Trailing => NumpyMath.Arange(T, 0, -(T / (double)numInferenceSteps))
                .Select(t => (double)((float)NumpyMath.Round(t) - 1f)).ToArray(),
            _ => throw new NotSupportedException($"timestep_spacing {config.TimestepSpacing}"),
        };
    }

    /// <summary>Checks the step count as diffusers does (it must not exceed the training steps).</summary>
    public static void CheckStepCount(SchedulerConfig config, int numInferenceSteps)
    {
        if (numInferenceSteps < 1)
            throw new ArgumentOutOfRangeException(nameof(numInferenceSteps), numInferenceSteps, "At least one inference step is required.");
        if (numInferenceSteps > config.NumTrainTimesteps)
            throw new ArgumentOutOfRangeException(nameof(numInferenceSteps), numInferenceSteps,
                $"num_inference_steps cannot exceed num_train_timesteps ({config.NumTrainTimesteps}).");
    }
}
