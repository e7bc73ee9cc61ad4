using Grpc.Core;

namespace MultiModal.Core.Hosting.Drain;

/// <summary>
/// The call's own context, except that <see cref="ServerCallContext.CancellationToken"/> also fires when the drain
/// cancels the calls left at its limit, so that handlers, queues and jobs stop as they do for a client's cancel.
/// </summary>
internal sealed class DrainingCallContext : ServerCallContext
{
    // grpc-dotnet's GetHttpContext() (which its invoker calls to create the service) looks for the HttpContext under
    // this user-state key when the context is not its own type.
    private const string HttpContextKey = "__HttpContext";

    private readonly ServerCallContext _inner;
    private readonly CancellationToken _token;

    public DrainingCallContext(ServerCallContext inner, CancellationToken token)
    {
        _inner = inner;
        _token = token;
        inner.UserState[HttpContextKey] = inner.GetHttpContext();
    }

    protected override string MethodCore => _inner.Method;
    protected override string HostCore => _inner.Host;
    protected override string PeerCore => _inner.Peer;
    protected override DateTime DeadlineCore => _inner.Deadline;
    protected override Metadata RequestHeadersCore => _inner.RequestHeaders;
    protected override CancellationToken CancellationTokenCore => _token;
    protected override Metadata ResponseTrailersCore => _inner.ResponseTrailers;
    protected override AuthContext AuthContextCore => _inner.AuthContext;
    protected override IDictionary<object, object> UserStateCore => _inner.UserState;

    protected override Status StatusCore
    {
        get => _inner.Status;
        set => _inner.Status = value;
    }

    protected override WriteOptions? WriteOptionsCore
    {
        get => _inner.WriteOptions;
        set => _inner.WriteOptions = value;
    }

    protected override Task WriteResponseHeadersAsyncCore(Metadata responseHeaders) => _inner.WriteResponseHeadersAsync(responseHeaders);

    protected override ContextPropagationToken CreatePropagationTokenCore(ContextPropagationOptions? options) =>
        _inner.CreatePropagationToken(options);
}
