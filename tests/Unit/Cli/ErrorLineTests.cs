using Google.Protobuf.WellKnownTypes;
using Google.Rpc;
using Grpc.Core;
using MultiModal.Cli.Errors;
using Xunit;
using Status = Google.Rpc.Status;

namespace MultiModal.Tests.Unit.Cli;

public sealed class ErrorLineTests
{
    [Fact]
    public void From_ErrorInfoAndBadRequest_OneLineWithReasonAndEveryField()
    {
        var status = new Status
        {
            Code = (int)Code.InvalidArgument,
            Message = "steps: too many; width: not a multiple of 8",
            Details =
            {
                Any.Pack(new ErrorInfo { Reason = "INVALID_INPUT", Domain = "multimodal" }),
                Any.Pack(new BadRequest { FieldViolations =
                {
                    new BadRequest.Types.FieldViolation { Field = "steps", Description = "too many" },
                    new BadRequest.Types.FieldViolation { Field = "width", Description = "not a multiple of 8" },
                } }),
            },
        };

        var line = ErrorLine.From(status.ToRpcException(), "127.0.0.1:8080");

        Assert.Equal("mm: INVALID_ARGUMENT [INVALID_INPUT] steps: too many; width: not a multiple of 8", line);
    }

    [Fact]
    public void From_ExhaustedWithRetryInfo_SaysWhenToRetry()
    {
        var status = new Status
        {
            Code = (int)Code.ResourceExhausted,
            Message = "the queue is full",
            Details =
            {
                Any.Pack(new ErrorInfo { Reason = "QUEUE_FULL", Domain = "multimodal" }),
                Any.Pack(new RetryInfo { RetryDelay = Duration.FromTimeSpan(TimeSpan.FromSeconds(2.5)) }),
            },
        };

        Assert.Equal("mm: RESOURCE_EXHAUSTED [QUEUE_FULL] the queue is full (retry in 2.5 s)", ErrorLine.From(status.ToRpcException(), "g"));
    }

    [Fact]
    public void From_UnavailableWithoutDetails_NamesTheGateway()
    {
        var ex = new RpcException(new Grpc.Core.Status(StatusCode.Unavailable, "Error connecting to subchannel."));

        Assert.Equal("mm: UNAVAILABLE cannot reach the gateway at 10.0.0.1:80 (Error connecting to subchannel.)", ErrorLine.From(ex, "10.0.0.1:80"));
        Assert.True(ErrorLine.IsUnreachable(ex));
    }

    [Fact]
    public void From_MultiLineDetail_KeptOnOneLine() =>
        Assert.Equal("mm: INTERNAL first second",
            ErrorLine.From(new RpcException(new Grpc.Core.Status(StatusCode.Internal, "first\n second\n")), "g"));

    [Theory]
    [InlineData(StatusCode.OK, 0)]
    [InlineData(StatusCode.Internal, 1)]
    [InlineData(StatusCode.Unknown, 1)]
    [InlineData(StatusCode.InvalidArgument, 3)]
    [InlineData(StatusCode.FailedPrecondition, 3)]
    [InlineData(StatusCode.OutOfRange, 3)]
    [InlineData(StatusCode.NotFound, 3)]
    [InlineData(StatusCode.Unauthenticated, 4)]
    [InlineData(StatusCode.PermissionDenied, 4)]
    [InlineData(StatusCode.ResourceExhausted, 5)]
    [InlineData(StatusCode.Unavailable, 6)]
    [InlineData(StatusCode.DeadlineExceeded, 6)]
    [InlineData(StatusCode.Cancelled, 130)]
    public void ExitCodes_StatusClass_ItsDocumentedCode(StatusCode code, int exitCode) =>
        Assert.Equal(exitCode, ExitCodes.For(code));
}
