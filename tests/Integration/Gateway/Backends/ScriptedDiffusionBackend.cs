using System.Collections.Concurrent;
using Grpc.Core;
using MultiModal.Contracts.Diffusion.V1;

namespace MultiModal.Tests.Integration.Gateway.Backends;

/// <summary>
/// Test double of DiffusionService for the proxy tests only. <c>GenerateImage</c> streams one <c>progress</c> per
/// requested step and then one <c>result</c>; a prompt starting with <see cref="HangPrefix"/> streams one
/// <c>progress</c> and then waits for the call to be cancelled. Each call's deadline and cancellation are recorded
/// under its prompt, so tests use a unique prompt per call.
/// </summary>
public sealed class ScriptedDiffusionBackend(string name) : DiffusionService.DiffusionServiceBase
{
    /// <summary>Prompts with this prefix never finish on their own.</summary>
    public const string HangPrefix = "hang:";

    private readonly ConcurrentDictionary<string, ObservedCall> _calls = new();

    /// <summary>What the backend saw of the call with <paramref name="prompt"/> (created on first use).</summary>
    public ObservedCall Call(string prompt) => _calls.GetOrAdd(prompt, _ => new ObservedCall());

    public override Task<GetModelInfoResponse> GetModelInfo(GetModelInfoRequest request, ServerCallContext context)
        => Task.FromResult(new GetModelInfoResponse { ModelName = name });

    public override async Task GenerateImage(
        GenerateImageRequest request, IServerStreamWriter<GenerateImageResponse> responseStream, ServerCallContext context)
    {
        var call = Call(request.Prompt);
        call.Started.TrySetResult(context.Deadline);
        var hangs = request.Prompt.StartsWith(HangPrefix, StringComparison.Ordinal);

        for (var step = 1u; step <= (hangs ? 1u : request.Steps); step++)
            await responseStream.WriteAsync(
                new GenerateImageResponse { Progress = new Progress { Step = step, TotalSteps = request.Steps } },
                context.CancellationToken);

        if (hangs)
        {
            try
            {
                await Task.Delay(Timeout.Infinite, context.CancellationToken);
            }
            catch (OperationCanceledException)
            {
                call.Cancelled.TrySetResult();
                throw;
            }
        }

        await responseStream.WriteAsync(
            new GenerateImageResponse { Result = new Result { StepsRun = request.Steps, Seeds = { request.Seed } } },
            context.CancellationToken);
    }

    /// <summary>One call as the backend observed it.</summary>
    public sealed class ObservedCall
    {
        /// <summary>Completes when the call arrives, with <see cref="ServerCallContext.Deadline"/>.</summary>
        public TaskCompletionSource<DateTime> Started { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>Completes when the call's cancellation token fired while it was waiting.</summary>
        public TaskCompletionSource Cancelled { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
