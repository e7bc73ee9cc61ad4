using MultiModal.Gateway.OpenAi.Errors;

namespace MultiModal.Gateway.OpenAi.Models;

/// <summary><c>GET /v1/models</c> and <c>GET /v1/models/{id}</c>: served models, then the aliases that reach one.</summary>
public static class ModelsEndpoints
{
    public static async Task<IResult> ListAsync(ModelCatalog catalog, CancellationToken cancellationToken)
    {
        var served = await catalog.ListAsync(cancellationToken);
        var data = served.Select(m => Model(m.Id, m, catalog.Created))
            .Concat(catalog.Aliases.Keys.Order(StringComparer.Ordinal)
                .Where(alias => served.All(m => m.Id != alias))
                .Select(alias => (alias, model: catalog.Find(alias, served)))
                .Where(a => a.model is not null)
                .Select(a => Model(a.alias, a.model!, catalog.Created)));
        return Results.Json(new { @object = "list", data }, OpenAiJson.Options);
    }

    public static async Task<IResult> GetAsync(string id, ModelCatalog catalog, CancellationToken cancellationToken)
    {
        var served = await catalog.ListAsync(cancellationToken);
        var model = catalog.Find(id, served) ?? throw OpenAiException.ModelNotFound(id, "no service serves it and no alias names it");
        return Results.Json(Model(id, model, catalog.Created), OpenAiJson.Options);
    }

    private static object Model(string id, ServedModel model, long created) => new
    {
        id,
        @object = "model",
        created,
        owned_by = "multimodal",
        // Ours: which service answers, and the served id behind an alias.
        service = model.Service,
        served_model = model.Id,
    };
}
