using Google.Protobuf.WellKnownTypes;
using Google.Rpc;
using Grpc.Core;
using MultiModal.Gateway.OpenAi.Errors;
using Xunit;
using Status = Google.Rpc.Status;

namespace MultiModal.Tests.Unit.Gateway;

public sealed class RpcErrorMapperTests
{
    private static RpcException Error(Grpc.Core.StatusCode code, string reason, params Google.Protobuf.IMessage[] details)
    {
        var status = new Status { Code = (int)code, Message = "refused" };
        status.Details.Add(Any.Pack(new ErrorInfo { Reason = reason, Domain = "multimodal" }));
        foreach (var d in details)
            status.Details.Add(Any.Pack(d));
        return status.ToRpcException();
    }

    [Fact]
    public void Map_InvalidArgumentWithFieldViolation_400ParamThroughFieldMap()
    {
        var e = Error(Grpc.Core.StatusCode.InvalidArgument, "INVALID_INPUT",
            new BadRequest { FieldViolations = { new BadRequest.Types.FieldViolation { Field = "width", Description = "63 is not a multiple of 8" } } });

        var mapped = RpcErrorMapper.Map(e, f => f == "width" ? "size" : f);

        Assert.Equal(400, mapped.Status);
        Assert.Equal("size", mapped.Param);
        Assert.Equal("invalid_input", mapped.Code);
        Assert.Equal("invalid_request_error", mapped.Type);
        Assert.Contains("63 is not a multiple of 8", mapped.Message);
    }

    [Fact]
    public void Map_QueueFullWithRetryInfo_429WithRetryAfter()
    {
        var e = Error(Grpc.Core.StatusCode.ResourceExhausted, "QUEUE_FULL", new RetryInfo { RetryDelay = Duration.FromTimeSpan(TimeSpan.FromSeconds(3)) });

        var mapped = RpcErrorMapper.Map(e);

        Assert.Equal(429, mapped.Status);
        Assert.Equal(TimeSpan.FromSeconds(3), mapped.RetryAfter);
        Assert.Equal("queue_full", mapped.Code);
    }

    [Theory]
    [InlineData(Grpc.Core.StatusCode.ResourceExhausted, "REQUEST_TOO_LARGE", 413)]
    [InlineData(Grpc.Core.StatusCode.NotFound, "NOT_FOUND", 404)]
    [InlineData(Grpc.Core.StatusCode.Unauthenticated, "API_KEY_INVALID", 401)]
    [InlineData(Grpc.Core.StatusCode.Unavailable, "MODEL_LOADING", 503)]
    [InlineData(Grpc.Core.StatusCode.DeadlineExceeded, "DEADLINE", 504)]
    [InlineData(Grpc.Core.StatusCode.Internal, "INTERNAL", 500)]
    public void Map_Status_HttpStatus(Grpc.Core.StatusCode code, string reason, int http)
    {
        Assert.Equal(http, RpcErrorMapper.Map(Error(code, reason)).Status);
    }

    [Fact]
    public void Map_NoDetails_StatusAndDefaultCode()
    {
        var mapped = RpcErrorMapper.Map(new RpcException(new Grpc.Core.Status(Grpc.Core.StatusCode.Unavailable, "no connection")));

        Assert.Equal(503, mapped.Status);
        Assert.Null(mapped.Param);
        Assert.Equal("service_unavailable", mapped.Code);
    }
}
