namespace MultiModal.Models.Llava;

/// <summary>
/// LLaVA-1.5 prompts (llava-hf/llava-1.5-*-hf model cards; transformers 4.37 has no chat template for Llava, so the
/// prompt is built by hand, as tiny-llava-a/chat_template_note.txt records): <c>USER: &lt;image&gt;\n{question} ASSISTANT:</c>,
/// and for later turns <c>... ASSISTANT: {answer}&lt;/s&gt;USER: {question} ASSISTANT:</c>. A system instruction goes first,
/// followed by a space, as llava-hf's later chat_template.json renders a system message (its text, no role). The
/// tokenizer adds BOS.
/// </summary>
public static class LlavaPrompt
{
    public const string ImageToken = "<image>";

    /// <summary>One question about <paramref name="images"/> images (one <c>&lt;image&gt;</c> line each).</summary>
    public static string Build(string question, int images = 1) => Build([new LlavaTurn(question, null)], images);

    /// <summary>
    /// A conversation: every turn but the last carries the assistant's answer; the images go at the start of the first
    /// user message. Ends with <c>ASSISTANT:</c> so the model writes the next answer.
    /// </summary>
    public static string Build(IReadOnlyList<LlavaTurn> turns, int images = 1, string system = "")
    {
        ArgumentOutOfRangeException.ThrowIfNegative(images);
        if (turns.Count == 0) throw new ArgumentException("A prompt needs at least one turn.", nameof(turns));
        var prompt = new System.Text.StringBuilder();
        if (system.Length > 0) prompt.Append(system).Append(' ');
        for (var i = 0; i < turns.Count; i++)
        {
            prompt.Append("USER: ");
            if (i == 0) prompt.Append(string.Concat(Enumerable.Repeat(ImageToken + "\n", images)));
            prompt.Append(turns[i].User).Append(" ASSISTANT:");
            if (i < turns.Count - 1)
                prompt.Append(' ').Append(turns[i].Assistant ?? throw new ArgumentException($"Turn {i} needs the assistant's answer.", nameof(turns))).Append("</s>");
        }
        return prompt.ToString();
    }
}

/// <summary>One exchange: the user's message and, for past turns, the assistant's answer.</summary>
public sealed record LlavaTurn(string User, string? Assistant);
