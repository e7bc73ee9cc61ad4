using System.Buffers;

namespace MultiModal.Gateway.Retry;

/// <summary>
/// A unary request body read into memory, so the gateway can send it to a second replica. Bodies over the limit are
/// not buffered: what was read is put back in front of the rest of the stream, which the proxy then copies as usual.
/// </summary>
internal sealed class BufferedRequestBody : IDisposable
{
    private const int FirstChunk = 16 << 10;
    private byte[]? _buffer;
    private readonly int _length;

    private BufferedRequestBody(byte[] buffer, int length) => (_buffer, _length) = (buffer, length);

    /// <summary>How many bytes the body has.</summary>
    public int Length => _length;

    /// <summary>
    /// Reads <paramref name="request"/>'s body to its end if it has at most <paramref name="limit"/> bytes. Otherwise
    /// returns null and replaces <see cref="HttpRequest.Body"/> with a stream that yields the bytes already read and
    /// then the rest, unchanged.
    /// </summary>
    public static async Task<BufferedRequestBody?> ReadAsync(HttpRequest request, int limit, CancellationToken cancel)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(Math.Min(FirstChunk, limit + 1));
        var length = 0;
        try
        {
            while (true)
            {
                if (length == buffer.Length)
                    buffer = Grow(buffer, length, Math.Min((long)buffer.Length * 2, limit + 1L));
                var read = await request.Body.ReadAsync(buffer.AsMemory(length), cancel);
                if (read == 0)
                {
                    var body = new BufferedRequestBody(buffer, length);
                    buffer = null;
                    return body;
                }
                length += read;
                if (length > limit)
                {
                    var prefixed = new PrefixedStream(buffer, length, request.Body);
                    buffer = null;                                              // the stream returns it to the pool
                    request.Body = prefixed;
                    request.HttpContext.Response.RegisterForDispose(prefixed);
                    return null;
                }
            }
        }
        finally
        {
            if (buffer is not null)
                ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>A fresh read-only stream over the body, for one attempt.</summary>
    public Stream OpenRead() =>
        new MemoryStream(_buffer ?? throw new ObjectDisposedException(nameof(BufferedRequestBody)), 0, _length, writable: false);

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _buffer, null) is { } buffer)
            ArrayPool<byte>.Shared.Return(buffer);
    }

    private static byte[] Grow(byte[] buffer, int length, long size)
    {
        var larger = ArrayPool<byte>.Shared.Rent((int)size);
        buffer.AsSpan(0, length).CopyTo(larger);
        ArrayPool<byte>.Shared.Return(buffer);
        return larger;
    }

    /// <summary>The bytes read ahead, then the rest of the original body.</summary>
    private sealed class PrefixedStream(byte[] prefix, int prefixLength, Stream rest) : Stream
    {
        private byte[]? _prefix = prefix;
        private int _position;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            if (TakePrefix(buffer) is var taken and > 0)
                return taken;
            return rest.Read(buffer);
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (TakePrefix(buffer.Span) is var taken and > 0)
                return ValueTask.FromResult(taken);
            return rest.ReadAsync(buffer, cancellationToken);
        }

        private int TakePrefix(Span<byte> destination)
        {
            if (_prefix is null || destination.IsEmpty)
                return 0;
            var count = Math.Min(destination.Length, prefixLength - _position);
            _prefix.AsSpan(_position, count).CopyTo(destination);
            _position += count;
            if (_position == prefixLength)
                ReturnPrefix();
            return count;
        }

        private void ReturnPrefix()
        {
            if (Interlocked.Exchange(ref _prefix, null) is { } buffer)
                ArrayPool<byte>.Shared.Return(buffer);
        }

        protected override void Dispose(bool disposing)
        {
            ReturnPrefix();
            base.Dispose(disposing);
        }

        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
