using MultiModal.Models.Errors;

namespace MultiModal.Models.Schedulers;

/// <summary>The part of a schedule img2img runs, and where it starts.</summary>
/// <param name="Timesteps">The timesteps to denoise through, in order.</param>
/// <param name="NumInferenceSteps">diffusers' returned step count (<c>num_inference_steps − t_start</c>).</param>
public sealed record Img2ImgSchedule(IReadOnlyList<double> Timesteps, int NumInferenceSteps)
{
    /// <summary>The timestep the encoded image is noised to (<c>add_noise(init_latents, noise, timesteps[:1])</c>).</summary>
    public double StartTimestep => Timesteps[0];
}

/// <summary>
/// diffusers 0.25.1 <c>StableDiffusionImg2ImgPipeline.get_timesteps</c>: after <c>set_timesteps(steps)</c>, keep the
/// last <c>int(steps · strength)</c> steps, <c>timesteps[t_start · order:]</c> with <c>t_start = steps − init_timestep</c>.
/// The slice indexes the scheduler's own list, so for PNDM (whose list repeats one timestep) it can start on the
/// repeat. diffusers 0.25.1 has no <c>set_begin_index</c>: σ-schedulers find their start by looking the first
/// timestep up (the second match when it occurs twice).
/// </summary>
public static class Img2ImgTimesteps
{
    /// <summary>Selects the timesteps for <paramref name="strength"/>; <see cref="IScheduler.SetTimesteps"/> must have run.</summary>
    public static Img2ImgSchedule Select(IScheduler scheduler, int numInferenceSteps, double strength)
    {
        if (!(strength >= 0 && strength <= 1))
            throw new InputRejectedException(InputRejection.Invalid, $"strength must be in [0, 1], got {strength}.", "strength");
        if (scheduler.NumInferenceSteps == 0)
            throw new InvalidOperationException("Call SetTimesteps before selecting img2img timesteps.");
        var initTimestep = Math.Min((int)(numInferenceSteps * strength), numInferenceSteps);
        var tStart = Math.Max(numInferenceSteps - initTimestep, 0);
        var timesteps = scheduler.Timesteps.Skip(tStart * scheduler.Order).ToArray();
        if (timesteps.Length == 0)
            throw new InputRejectedException(InputRejection.Invalid,
                $"strength {strength} with {numInferenceSteps} steps leaves no denoising step; raise strength or steps.", "strength");
        return new Img2ImgSchedule(timesteps, numInferenceSteps - tStart);
    }
}
