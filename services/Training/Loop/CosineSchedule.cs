namespace MultiModal.Training.Loop;

/// <summary>
/// Linear warmup from 0 to <see cref="PeakLearningRate"/> over <see cref="WarmupSteps"/>, then half a cosine down to
/// <see cref="MinLearningRate"/> at <see cref="TotalSteps"/> (as transformers' get_cosine_schedule_with_warmup, with a floor).
/// </summary>
public sealed record CosineSchedule(double PeakLearningRate, int WarmupSteps, int TotalSteps, double MinLearningRate = 0)
{
    /// <summary>The learning rate for optimizer step <paramref name="step"/> (0-based).</summary>
    public double At(int step)
    {
        if (step < WarmupSteps)
            return PeakLearningRate * (step + 1) / WarmupSteps;
        var progress = Math.Clamp((double)(step - WarmupSteps) / Math.Max(1, TotalSteps - WarmupSteps), 0, 1);
        return MinLearningRate + (PeakLearningRate - MinLearningRate) * 0.5 * (1 + Math.Cos(Math.PI * progress));
    }
}
