namespace MultiModal.ModelKit.Fetch;

/// <summary>A fetch that cannot succeed as asked (auth, missing file, checksum); the message says what to do.</summary>
public sealed class HubFetchException(string message, Exception? inner = null) : Exception(message, inner);
