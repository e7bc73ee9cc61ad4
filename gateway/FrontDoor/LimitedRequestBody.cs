namespace MultiModal.Gateway.FrontDoor;

/// <summary>Thrown by <see cref="LimitedRequestBody"/> when a body grows past its limit.</summary>
public sealed class RequestBodyTooLargeException(long limitBytes)
    : IOException($"The request body is larger than {limitBytes} bytes.")
{
    public long LimitBytes { get; } = limitBytes;
}

/// <summary>
/// The request body as the proxy reads it, counting bytes: past the limit the read throws
/// <see cref="RequestBodyTooLargeException"/> and <see cref="Exceeded"/> is set, so the front door answers
/// RESOURCE_EXHAUSTED / 413 whoever was reading (YARP's body copy, or a middleware buffering the body).
/// gRPC bodies carry no Content-Length, so counting is the only way to bound them without buffering.
/// </summary>
public sealed class LimitedRequestBody(Stream inner, long limitBytes) : Stream
{
    private long _read;

    /// <summary>Set once a read went past the limit.</summary>
    public bool Exceeded { get; private set; }

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => _read; set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count) => Count(inner.Read(buffer, offset, count));

    public override int Read(Span<byte> buffer) => Count(inner.Read(buffer));

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        Count(await inner.ReadAsync(buffer, cancellationToken));

    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    private int Count(int read)
    {
        _read += read;
        if (_read > limitBytes)
        {
            Exceeded = true;
            throw new RequestBodyTooLargeException(limitBytes);
        }
        return read;
    }
}
