namespace MultiModal.Core.Inference;

/// <summary>
/// A bound on what the running sequences of a <see cref="ContinuousBatchingQueue{TRequest, TSequence, TResult}"/> hold
/// together, e.g. KV-cache positions (prompt + most new tokens) so that a batch fits the device's memory. A waiting
/// request is admitted only while its cost fits next to the running ones; the oldest waiting request is never passed
/// over (FIFO), and one that exceeds the bound on its own still runs, alone.
/// </summary>
/// <param name="CostOf">A request's cost; at least 0, constant for the request.</param>
/// <param name="MaxTotal">Most cost the running sequences may hold together.</param>
public sealed record SequenceBudget<TRequest>(Func<TRequest, long> CostOf, long MaxTotal)
{
    internal void Validate() => ArgumentOutOfRangeException.ThrowIfLessThan(MaxTotal, 1, nameof(MaxTotal));
}
