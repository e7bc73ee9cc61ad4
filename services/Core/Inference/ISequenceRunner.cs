namespace MultiModal.Core.Inference;

/// <summary>
/// Runs sequences that advance one step at a time for a
/// <see cref="ContinuousBatchingQueue{TRequest, TSequence, TResult}"/>; called only on the queue's worker thread.
/// </summary>
/// <typeparam name="TRequest">One caller's work (for an LLM: prompt, sampling settings, the caller's token).</typeparam>
/// <typeparam name="TSequence">Its running state (for an LLM: KV cache slot, tokens so far); disposed once by the queue.</typeparam>
/// <typeparam name="TResult">What the caller gets once the sequence finished.</typeparam>
public interface ISequenceRunner<TRequest, TSequence, TResult> where TSequence : IDisposable
{
    /// <summary>Starts the sequence of an admitted request (for an LLM: the prefill). It may already be finished when it returns.</summary>
    TSequence Start(TRequest request);

    /// <summary>Advances every sequence in <paramref name="running"/> by one step, together (one batched forward pass). None of them is finished.</summary>
    void Step(IReadOnlyList<TSequence> running);

    /// <summary>True, with its result, once the sequence has finished; false while it needs more steps.</summary>
    bool TryGetResult(TSequence sequence, out TResult result);
}
