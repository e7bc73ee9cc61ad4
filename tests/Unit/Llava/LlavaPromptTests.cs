using MultiModal.Models.Llava;
using Xunit;

namespace MultiModal.Tests.Unit.Llava;

public sealed class LlavaPromptTests
{
    [Fact]
    public void Build_OneQuestion_ModelCardForm()
    {
        Assert.Equal("USER: <image>\nWhat is it? ASSISTANT:", LlavaPrompt.Build("What is it?"));
    }

    [Fact]
    public void Build_SystemAndEarlierTurn_SystemFirstThenTurnsClosedWithEos()
    {
        var prompt = LlavaPrompt.Build([new LlavaTurn("What is it?", "A dot."), new LlavaTurn("What colour?", null)], images: 1, system: "Be brief.");

        Assert.Equal("Be brief. USER: <image>\nWhat is it? ASSISTANT: A dot.</s>USER: What colour? ASSISTANT:", prompt);
    }
}
