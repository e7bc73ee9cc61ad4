using MultiModal.Models.Weights;
using MultiModal.Tests.Testing;
using Xunit;

namespace MultiModal.Tests.Unit.Models;

public class SafeTensorsFileTests
{
    [Fact]
    public void Open_TinyClipCheckpoint_ListsTensorsWithShapes()
    {
        var file = SafeTensorsFile.Open(TestPaths.Fixture("tiny-clip", "model", "model.safetensors"));

        var embedding = file.Entries["text_model.embeddings.token_embedding.weight"];
        Assert.Equal("F32", embedding.DType);
        Assert.Equal(new long[] { 49408, 64 }, embedding.Shape);
        using var t = file.Load("text_model.embeddings.token_embedding.weight");
        Assert.Equal(new long[] { 49408, 64 }, t.shape);
    }
}
