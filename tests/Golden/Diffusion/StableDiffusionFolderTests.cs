using System.Text.Json;
using System.Text.Json.Nodes;
using MultiModal.Models.Pipelines;
using MultiModal.Models.Unet;
using MultiModal.Tests.Testing;
using Xunit;

namespace MultiModal.Tests.Golden.Diffusion;

/// <summary>Opening diffusers pipeline folders: model_index.json, component classes, configs.</summary>
public sealed class StableDiffusionFolderTests
{
    [Theory]
    [InlineData("tiny-sd", "PNDMScheduler")]
    [InlineData("tiny-sd2-v", "DDIMScheduler")]
    public void Open_TinyPipeline_ReadsComponentClassesAndFolders(string name, string scheduler)
    {
        var folder = StableDiffusionFolder.Open(TinySdPipelines.PipelineFolder(name));

        Assert.Equal("StableDiffusionPipeline", folder.PipelineClass);
        Assert.Equal(scheduler, folder.SchedulerClass);
        Assert.Equal("CLIPTokenizer", folder.TokenizerClass);
        Assert.True(File.Exists(Path.Combine(folder.UnetFolder, "diffusion_pytorch_model.safetensors")));
        Assert.EndsWith(Path.Combine("scheduler", "scheduler_config.json"), folder.SchedulerConfigPath);
    }

    [Fact]
    public void UNetConfig_Sd2Folder_ParsesPerBlockHeadsAndSd2Options()
    {
        var config = UNet2DConditionConfig.Load(Path.Combine(TinySdPipelines.PipelineFolder("tiny-sd2-v"), "unet", "config.json"));

        Assert.Equal([2, 4], config.NumHeadsPerBlock);                     // attention_head_dim (2, 4) = heads per block
        Assert.True(config.UseLinearProjection);
        Assert.True(config.UpcastAttention);
        Assert.Equal(128, config.TimeEmbedDim);
    }

    [Theory]
    [InlineData("unet", "[\"diffusers\", \"UNet2DModel\"]", "unet")]
    [InlineData("text_encoder", "[\"transformers\", \"CLIPTextModelWithProjection\"]", "text_encoder")]
    [InlineData("_class_name", "\"StableDiffusionXLPipeline\"", "StableDiffusionXLPipeline")]
    public void Open_UnsupportedComponent_ThrowsNamingIt(string key, string json, string named)
    {
        var root = CopyIndexOnly("tiny-sd", index => index[key] = JsonNode.Parse(json));
        try
        {
            var ex = Assert.Throws<NotSupportedException>(() => StableDiffusionFolder.Open(root));
            Assert.Contains(named, ex.Message);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public void Open_MissingModelIndex_ThrowsFileNotFound()
    {
        Assert.Throws<FileNotFoundException>(() => StableDiffusionFolder.Open(TestPaths.Fixture("tiny-sd")));
    }

    [Theory]
    [InlineData("{\"num_attention_heads\": 8}")]
    [InlineData("{\"addition_embed_type\": \"text_time\"}")]
    [InlineData("{\"only_cross_attention\": [true, false, false, false]}")]
    [InlineData("{\"down_block_types\": [\"SimpleCrossAttnDownBlock2D\", \"DownBlock2D\", \"DownBlock2D\", \"DownBlock2D\"]}")]
    public void UNetConfig_OptionOutsideSdFamily_ThrowsNotSupported(string json)
    {
        var config = JsonSerializer.Deserialize<UNet2DConditionConfig>(json)!;

        Assert.Throws<NotSupportedException>(config.Validate);
    }

    [Fact]
    public void UNetConfig_PerBlockListOfWrongLength_ThrowsInvalidData()
    {
        var config = JsonSerializer.Deserialize<UNet2DConditionConfig>("{\"attention_head_dim\": [5, 10]}")!;

        Assert.Throws<InvalidDataException>(config.Validate);
    }

    // A temp pipeline folder whose component folders are the fixture's (copied) and whose model_index.json is edited.
    private static string CopyIndexOnly(string name, Action<JsonObject> edit)
    {
        var source = TinySdPipelines.PipelineFolder(name);
        var root = Directory.CreateTempSubdirectory("sd-folder-").FullName;
        foreach (var part in new[] { "unet", "vae", "text_encoder" })
        {
            Directory.CreateDirectory(Path.Combine(root, part));
            File.Copy(Path.Combine(source, part, "config.json"), Path.Combine(root, part, "config.json"));
        }
        Directory.CreateDirectory(Path.Combine(root, "tokenizer"));
        var index = JsonNode.Parse(File.ReadAllText(Path.Combine(source, "model_index.json")))!.AsObject();
        edit(index);
        File.WriteAllText(Path.Combine(root, "model_index.json"), index.ToJsonString());
        return root;
    }
}
