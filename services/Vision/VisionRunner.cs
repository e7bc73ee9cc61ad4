using Microsoft.Extensions.Options;
using MultiModal.Core.Errors;
using MultiModal.Core.Hosting;
using MultiModal.Core.Hosting.Drain;
using MultiModal.Vision.Backends;
using MultiModal.Vision.Local;
using MultiModal.Vision.OpenAi;

namespace MultiModal.Vision;

/// <summary>
/// Creates the configured backend when the host starts (so a local model is loaded before Kestrel listens) and
/// marks the service ready; disposes it (draining the device thread) when the host stops.
/// </summary>
public sealed class VisionRunner(IOptions<VisionOptions> options, ModelReadiness readiness, DrainState drain, ILoggerFactory loggers)
    : IHostedService, IDisposable
{
    private IVisionBackend? _backend;

    public IVisionBackend Backend => _backend ?? throw InferenceException.ModelNotReady();
    public VisionOptions Options => options.Value;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        var o = options.Value;
        _backend = o.IsOpenAi ? new OpenAiBackend(o, loggers) : new LocalLlavaBackend(o, loggers);
        drain.AddQueue(_backend.RejectWaiting);   // SIGTERM: requests not started yet are answered UNAVAILABLE at once
        readiness.MarkReady();
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        readiness.MarkNotReady();
        return Task.CompletedTask;
    }

    public void Dispose() => _backend?.Dispose();
}
