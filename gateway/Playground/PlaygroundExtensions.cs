using Microsoft.Extensions.FileProviders;
using Microsoft.Net.Http.Headers;

namespace MultiModal.Gateway.Playground;

/// <summary>
/// The browser playground at <c>/</c>: Playground/wwwroot (one HTML page, ES modules, CSS; no build step) copied next
/// to the gateway's assembly and served as static files ahead of the front door, so the page itself needs no key; its
/// calls to <c>/v1/...</c> carry the key typed into the page. Only GET/HEAD of a file that exists is answered here:
/// gRPC (POST to <c>/package.Service/Method</c>), REST and health requests pass through untouched.
/// </summary>
public static class PlaygroundExtensions
{
    /// <summary>Where the build copies the page (Gateway.csproj), relative to the assembly.</summary>
    public static string Root { get; } = Path.Combine(AppContext.BaseDirectory, "Playground", "wwwroot");

    // The page loads nothing from elsewhere and talks only to this origin; images are data:/blob: URLs made in the page.
    private const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    public static WebApplication UsePlayground(this WebApplication app)
    {
        if (!Directory.Exists(Root))
            return app;   // a build without the page (nothing to serve); everything else works as before
        var files = new PhysicalFileProvider(Root);
        app.UseDefaultFiles(new DefaultFilesOptions { FileProvider = files });
        app.UseStaticFiles(new StaticFileOptions
        {
            FileProvider = files,
            OnPrepareResponse = file =>
            {
                var headers = file.Context.Response.Headers;
                headers[HeaderNames.CacheControl] = "no-cache";   // revalidate: a rebuilt gateway serves the new page
                headers[HeaderNames.ContentSecurityPolicy] = ContentSecurityPolicy;
                headers[HeaderNames.XContentTypeOptions] = "nosniff";
                headers["Referrer-Policy"] = "no-referrer";
            },
        });
        return app;
    }
}
