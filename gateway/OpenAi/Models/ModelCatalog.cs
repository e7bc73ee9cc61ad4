using System.Collections.Concurrent;
using Grpc.Core;
using Microsoft.Extensions.Options;
using MultiModal.Gateway.OpenAi.Errors;
using MultiModal.Gateway.OpenAi.Upstreams;
using ClipV1 = MultiModal.Contracts.Clip.V1;
using DiffusionV1 = MultiModal.Contracts.Diffusion.V1;
using VisionV1 = MultiModal.Contracts.Vision.V1;

namespace MultiModal.Gateway.OpenAi.Models;

/// <summary>A model the fleet serves: its id (the service's GetModelInfo model_name) and the service (cluster id).</summary>
public sealed record ServedModel(string Id, string Service);

/// <summary>
/// Which models the fleet serves, from each service's GetModelInfo (kept for a few seconds), and what a request's
/// <c>model</c> means: a served id, or an alias from <c>Gateway:ModelAliases</c>.
/// </summary>
public sealed class ModelCatalog(FleetChannels fleet, IOptions<OpenAiOptions> options, TimeProvider time)
{
    public const string Vision = "vision", Clip = "clip", Diffusion = "diffusion";
    public static readonly string[] Services = [Vision, Clip, Diffusion];

    private static readonly TimeSpan Fresh = TimeSpan.FromSeconds(5);
    private readonly ConcurrentDictionary<string, (ServedModel Model, DateTimeOffset At)> _cache = new();

    /// <summary>When this gateway started: the <c>created</c> of every model object.</summary>
    public long Created { get; } = time.GetUtcNow().ToUnixTimeSeconds();

    public IReadOnlyDictionary<string, string> Aliases => options.Value.ModelAliases;

    /// <summary>Every service that answers, with its model; a service that is down is left out.</summary>
    public async Task<IReadOnlyList<ServedModel>> ListAsync(CancellationToken cancellationToken)
    {
        var all = await Task.WhenAll(Services.Select(async s =>
        {
            try
            {
                return await OfServiceAsync(s, cancellationToken);
            }
            catch (RpcException e) when (e.StatusCode is StatusCode.Unavailable or StatusCode.DeadlineExceeded or StatusCode.Unimplemented)
            {
                return null;
            }
        }));
        return [.. all.OfType<ServedModel>()];
    }

    /// <summary>
    /// The model <paramref name="requested"/> names, which <paramref name="service"/> must serve: 404 model_not_found
    /// otherwise (another service's model, or an unknown name).
    /// </summary>
    public async Task<ServedModel> ResolveAsync(string requested, string service, CancellationToken cancellationToken)
    {
        var served = await OfServiceAsync(service, cancellationToken);
        if (requested == served.Id)
            return served;
        if (Aliases.TryGetValue(requested, out var target) && (target == served.Id || target == service))
            return served;
        var why = Aliases.ContainsKey(requested)
            ? $"it is an alias of '{target}', which this endpoint's service ({service}) does not serve"
            : $"this endpoint's service ({service}) serves '{served.Id}'";
        throw OpenAiException.ModelNotFound(requested, why);
    }

    /// <summary>The served model an id or alias names, among <paramref name="models"/>; null when none.</summary>
    public ServedModel? Find(string id, IReadOnlyList<ServedModel> models) =>
        models.FirstOrDefault(m => m.Id == id)
        ?? (Aliases.TryGetValue(id, out var target) ? models.FirstOrDefault(m => m.Id == target || m.Service == target) : null);

    private async Task<ServedModel> OfServiceAsync(string service, CancellationToken cancellationToken)
    {
        if (_cache.TryGetValue(service, out var hit) && time.GetUtcNow() - hit.At < Fresh)
            return hit.Model;
        var deadline = DateTime.UtcNow.AddSeconds(10);
        var name = await fleet.UnaryAsync(service, async invoker => service switch
        {
            Vision => (await new VisionV1.VisionService.VisionServiceClient(invoker)
                .GetModelInfoAsync(new VisionV1.GetModelInfoRequest(), deadline: deadline, cancellationToken: cancellationToken)).ModelName,
            Clip => (await new ClipV1.ClipService.ClipServiceClient(invoker)
                .GetModelInfoAsync(new ClipV1.GetModelInfoRequest(), deadline: deadline, cancellationToken: cancellationToken)).ModelName,
            _ => (await new DiffusionV1.DiffusionService.DiffusionServiceClient(invoker)
                .GetModelInfoAsync(new DiffusionV1.GetModelInfoRequest(), deadline: deadline, cancellationToken: cancellationToken)).ModelName,
        });
        var model = new ServedModel(name, service);
        _cache[service] = (model, time.GetUtcNow());
        return model;
    }
}
