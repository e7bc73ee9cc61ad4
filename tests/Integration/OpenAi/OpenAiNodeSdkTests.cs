using MultiModal.Tests.Integration.Vision;
using MultiModal.Tests.Testing;
using Xunit;

namespace MultiModal.Tests.Integration.OpenAi;

/// <summary>
/// The official <c>openai</c> npm package (pinned in OpenAi/node/package.json; Node 20), unmodified apart from base URL
/// and key: OpenAi/node/sdk-test.mjs runs every case against the fleet and prints one JSON line per case.
/// </summary>
[Collection(OpenAiFleetCollection.Name)]
public sealed class OpenAiNodeSdkTests(OpenAiFleetFixture fleet)
{
    private static readonly string[] Cases =
    [
        "embeddings_both_encodings", "chat_image_object_form", "chat_image_string_form", "chat_stream_with_usage",
        "image_generation_b64_json", "image_stream_partial_images", "image_edit", "models_list", "error_bad_key_401",
        "error_bad_size_400_param",
    ];

    private static readonly NodeScript Script = new(Path.Combine(TestPaths.RepoRoot, "tests", "Integration", "OpenAi", "node"));

    [Fact]
    public async Task NodeSdk_EveryCase_Passes()
    {
        await Script.EnsurePackagesAsync("openai");
        var picture = Path.Combine(Directory.CreateTempSubdirectory("openai-node-").FullName, "picture.png");
        await File.WriteAllBytesAsync(picture, fleet.ImageHost.Png);
        var (exit, output) = await Script.RunAsync("node", ["sdk-test.mjs"], new()
        {
            ["OPENAI_BASE_URL"] = new Uri(fleet.Gateway.Address, "/v1").ToString(),
            ["OPENAI_API_KEY"] = OpenAiFleetFixture.Key,
            ["IMAGE_PNG"] = picture,
            ["INIT_PNG"] = TestPaths.Fixture("tiny-sd", "img2img_init_64x64.png"),
            ["IMAGE_URL"] = $"http://img.localtest:{fleet.ImageHost.Port}/image.png",
            ["SERVED_VISION"] = Path.GetFileName(VisionFleetFixture.ModelFolder),
        }, TimeSpan.FromMinutes(4));

        NodeScript.AssertEveryCasePassed(Cases, exit, output);
    }
}
