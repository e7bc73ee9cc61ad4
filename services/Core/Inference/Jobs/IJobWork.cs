namespace MultiModal.Core.Inference.Jobs;

/// <summary>What the <see cref="JobQueue{TWork, TPreview, TResult}"/> needs to know about a job's work.</summary>
public interface IJobWork
{
    /// <summary>Items the job produces (e.g. images), counted in ServingStats.items_run.</summary>
    int Items { get; }

    /// <summary>
    /// Relative cost (e.g. steps × images × megapixels), only used to estimate waits: the queue learns seconds per unit
    /// of cost from finished jobs. Must be positive.
    /// </summary>
    double Cost { get; }
}
