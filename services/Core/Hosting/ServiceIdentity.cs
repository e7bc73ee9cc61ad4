namespace MultiModal.Core.Hosting;

/// <summary>The name a host passed to <c>AddGrpcServiceDefaults()</c> (e.g. "clip"), available from DI.</summary>
public sealed record ServiceIdentity(string Name);
