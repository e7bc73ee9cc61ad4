namespace MultiModal.Core.Hosting;

/// <summary>Whether this process can serve inference now. Drives the <c>readiness</c> health service and <c>/healthz</c>.</summary>
public interface IModelReadiness
{
    /// <summary>True once the model is loaded and warm.</summary>
    bool IsReady { get; }
}

/// <summary>
/// The default <see cref="IModelReadiness"/>, registered by <c>AddGrpcServiceDefaults()</c>: not ready until the host
/// calls <see cref="MarkReady"/> after loading its model. Hosts with their own notion of readiness register their own
/// <see cref="IModelReadiness"/> before calling <c>AddGrpcServiceDefaults()</c>.
/// </summary>
public sealed class ModelReadiness : IModelReadiness
{
    private volatile bool _isReady;

    /// <inheritdoc />
    public bool IsReady => _isReady;

    /// <summary>The model is loaded: start taking traffic.</summary>
    public void MarkReady() => _isReady = true;

    /// <summary>Stop taking traffic (e.g. the model is being reloaded).</summary>
    public void MarkNotReady() => _isReady = false;
}
