using System.Text.Json;
using MultiModal.Gateway.OpenAi.Chat;
using MultiModal.Gateway.OpenAi.Errors;
using Xunit;

namespace MultiModal.Tests.Unit.Gateway;

public sealed class ChatRequestParserTests
{
    private static ChatRequest Parse(string json) => ChatRequestParser.Parse(JsonDocument.Parse(json).RootElement);

    [Fact]
    public void Parse_ImageUrlObjectAndPlainString_BothImagesInOrderWithTheirPaths()
    {
        var chat = Parse("""
            {"model":"gpt-4o","max_tokens":300,"messages":[{"role":"system","content":"be brief"},{"role":"user","content":[
              {"type":"text","text":"这张图片里有什么？"},{"type":"image_url","image_url":"https://a.example/x.png"},
              {"type":"image_url","image_url":{"url":"data:image/png;base64,AA==","detail":"high"}}]}]}
            """);

        Assert.Equal("这张图片里有什么？", chat.Prompt);
        Assert.Equal(["https://a.example/x.png", "data:image/png;base64,AA=="], chat.Images.Select(i => i.Url));
        Assert.Equal("messages[1].content[2].image_url", chat.Images[1].Param);
        Assert.Equal(300u, chat.MaxTokens);
        Assert.Equal(1f, chat.Temperature);                    // OpenAI's default: sampling
    }

    [Fact]
    public void Parse_Conversation_SystemHistoryAndLastQuestion()
    {
        var chat = Parse("""
            {"model":"m","messages":[{"role":"system","content":"Be brief."},{"role":"developer","content":[{"type":"text","text":"Answer in English."}]},
              {"role":"user","content":[{"type":"text","text":"What is it?"},{"type":"image_url","image_url":"data:image/png;base64,AA=="}]},
              {"role":"assistant","content":"A dot."},{"role":"user","content":"What colour?"}]}
            """);

        Assert.Equal("Be brief.\nAnswer in English.", chat.System);
        Assert.Equal([("What is it?", "A dot.")], chat.History);
        Assert.Equal("What colour?", chat.Prompt);
        Assert.Equal("messages[2].content[1].image_url", Assert.Single(chat.Images).Param);
    }

    [Fact]
    public void Parse_TemperatureZeroAndStreamOptions_GreedyWithUsage()
    {
        var chat = Parse("""{"model":"m","temperature":0,"max_completion_tokens":5,"stream":true,"stream_options":{"include_usage":true},"stop":"\n","messages":[{"role":"user","content":"hi"}]}""");

        Assert.Null(chat.Temperature);
        Assert.True(chat.Stream && chat.IncludeUsage);
        Assert.Equal("max_completion_tokens", chat.MaxTokensParam);
        Assert.Equal(["\n"], chat.Stop);
    }

    [Theory]
    [InlineData("""{"model":"m","n":2,"messages":[{"role":"user","content":"hi"}]}""", "n")]
    [InlineData("""{"model":"m","messages":[{"role":"user","content":"a"},{"role":"user","content":"c"}]}""", "messages[1].role")]
    [InlineData("""{"model":"m","messages":[{"role":"user","content":"a"},{"role":"assistant","content":"b"}]}""", "messages")]
    [InlineData("""{"model":"m","messages":[{"role":"user","content":"a"},{"role":"system","content":"b"},{"role":"user","content":"c"}]}""", "messages[1].role")]
    [InlineData("""{"model":"m","messages":[{"role":"user","content":"a"},{"role":"assistant","content":"b"},{"role":"user","content":[{"type":"image_url","image_url":"data:image/png;base64,AA=="}]}]}""", "messages[2].content[0].image_url")]
    [InlineData("""{"model":"m","messages":[{"role":"user","content":[{"type":"input_audio"}]}]}""", "messages[0].content[0].type")]
    [InlineData("""{"model":"m","messages":[{"role":"user","content":[{"type":"image_url","image_url":{}}]}]}""", "messages[0].content[0].image_url.url")]
    [InlineData("""{"model":"m","messages":[{"role":"user","content":"hi"}],"top_p":0}""", "top_p")]
    [InlineData("""{"model":"m","messages":[{"role":"user","content":"hi"}],"stream_options":{"include_usage":true}}""", "stream_options")]
    [InlineData("""{"model":"m","messages":[{"role":"user","content":"hi"}],"stop":["a","b","c","d","e"]}""", "stop")]
    [InlineData("""{"model":"m","messages":"hi"}""", "messages")]
    [InlineData("""{"model":7,"messages":[]}""", "model")]
    public void Parse_BadField_400NamingIt(string json, string param)
    {
        var e = Assert.Throws<OpenAiException>(() => Parse(json));

        Assert.Equal(400, e.Status);
        Assert.Equal(param, e.Param);
    }
}
