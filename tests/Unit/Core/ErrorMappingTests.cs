using Google.Rpc;
using Grpc.Core;
using Microsoft.Extensions.Logging;
using MultiModal.Contracts.Common.V1;
using MultiModal.Core.Errors;
using MultiModal.Models.Errors;
using Xunit;

namespace MultiModal.Tests.Unit.Core;

public sealed class ErrorMappingTests
{
    private const string TraceId = "4bf92f3577b34da6a3ce929d0e0e4736";

    private readonly CollectingLogger _logger = new();

    private static RpcCallInfo Call(DateTime? deadline = null, CancellationToken token = default) =>
        new("/multimodal.clip.v1.ClipService/EmbedTexts", deadline ?? DateTime.MaxValue, token, TraceId);

    private Google.Rpc.Status Map(Exception exception, RpcCallInfo? call = null)
    {
        var rpc = ErrorMapping.ToRpcException(exception, call ?? Call(), _logger);
        var status = rpc.GetRpcStatus();
        Assert.NotNull(status);
        Assert.Equal((int)rpc.StatusCode, status.Code);
        return status;
    }

    // AIP-193: every status the fleet sends carries exactly one ErrorInfo in the "multimodal" domain.
    private static ErrorInfo SingleErrorInfo(Google.Rpc.Status status)
    {
        var info = Assert.Single(status.Details, d => d.Is(ErrorInfo.Descriptor)).Unpack<ErrorInfo>();
        Assert.Equal("multimodal", info.Domain);
        return info;
    }

    [Fact]
    public void ToRpcException_InvalidArgument_CarriesReasonAndFieldViolation()
    {
        var status = Map(InferenceException.InvalidArgument("texts[1]", "must be at most 10000 characters"));

        Assert.Equal((int)StatusCode.InvalidArgument, status.Code);
        Assert.Equal("texts[1]: must be at most 10000 characters", status.Message);
        Assert.Equal("INVALID_INPUT", SingleErrorInfo(status).Reason);
        var violation = Assert.Single(status.GetDetail<BadRequest>().FieldViolations);
        Assert.Equal("texts[1]", violation.Field);
        Assert.Equal("must be at most 10000 characters", violation.Description);
        Assert.Null(status.GetDetail<RetryInfo>());
    }

    [Fact]
    public void ToRpcException_InvalidArguments_OneViolationPerField()
    {
        var status = Map(InferenceException.InvalidArguments([("width", "must be a multiple of 8"), ("steps", "must be in [1, 150]")]));

        Assert.Equal((int)StatusCode.InvalidArgument, status.Code);
        Assert.Equal(["width", "steps"], status.GetDetail<BadRequest>().FieldViolations.Select(v => v.Field));
        Assert.Equal("INVALID_INPUT", SingleErrorInfo(status).Reason);
    }

    [Fact]
    public void ToRpcException_QueueFull_ResourceExhaustedWithRetryInfoAndQueueLength()
    {
        var status = Map(InferenceException.QueueFull(256));

        Assert.Equal((int)StatusCode.ResourceExhausted, status.Code);
        var info = SingleErrorInfo(status);
        Assert.Equal("QUEUE_FULL", info.Reason);
        Assert.Equal("256", info.Metadata["queueLength"]);
        Assert.InRange(status.GetDetail<RetryInfo>().RetryDelay.ToTimeSpan(), TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2));   // QueueFull's documented jitter, [1, 2) s
        Assert.Null(status.GetDetail<BadRequest>());
    }

    [Theory]
    [InlineData(InputRejection.Invalid, "INVALID_INPUT")]
    [InlineData(InputRejection.UnsupportedImageFormat, "UNSUPPORTED_IMAGE_FORMAT")]
    [InlineData(InputRejection.ImageTooLarge, "IMAGE_TOO_LARGE")]
    [InlineData(InputRejection.PromptTooLong, "PROMPT_TOO_LONG")]
    public void ToRpcException_InputRejected_InvalidArgumentWithMatchingReasonAndField(InputRejection kind, string reason)
    {
        var status = Map(new InputRejectedException(kind, "not acceptable").WithField("images[2].data"));

        Assert.Equal((int)StatusCode.InvalidArgument, status.Code);
        Assert.Equal(reason, SingleErrorInfo(status).Reason);
        var violation = Assert.Single(status.GetDetail<BadRequest>().FieldViolations);
        Assert.Equal("images[2].data", violation.Field);
        Assert.Equal("not acceptable", violation.Description);
    }

    [Fact]
    public void ToRpcException_InputRejectedWithoutField_ViolationNamesNoField()
    {
        var status = Map(new InputRejectedException(InputRejection.PromptTooLong, "81 tokens, at most 77"));

        Assert.Equal("81 tokens, at most 77", status.Message);
        Assert.Equal("", Assert.Single(status.GetDetail<BadRequest>().FieldViolations).Field);
    }

    [Fact]
    public void ToRpcException_CancelledByClient_Cancelled()
    {
        var rpc = ErrorMapping.ToRpcException(
            new OperationCanceledException(), Call(token: new CancellationToken(canceled: true)), _logger);

        Assert.Equal(StatusCode.Cancelled, rpc.StatusCode);
        Assert.Empty(_logger.Entries);
    }

    [Fact]
    public void ToRpcException_CancelledAfterDeadline_DeadlineExceeded()
    {
        var call = Call(deadline: DateTime.UtcNow.AddSeconds(-1), token: new CancellationToken(canceled: true));

        var status = Map(new TaskCanceledException(), call);

        Assert.Equal((int)StatusCode.DeadlineExceeded, status.Code);
        Assert.Equal("DEADLINE_TOO_SHORT", SingleErrorInfo(status).Reason);
    }

    [Fact]
    public void ToRpcException_CancellationNotFromTheCall_Internal()
    {
        var status = Map(new OperationCanceledException("some internal timeout"));

        Assert.Equal((int)StatusCode.Internal, status.Code);
    }

    [Fact]
    public void ToRpcException_RpcException_PassesThroughUnchanged()
    {
        var original = new RpcException(new Grpc.Core.Status(StatusCode.NotFound, "no such model"));

        Assert.Same(original, ErrorMapping.ToRpcException(original, Call(), _logger));
    }

    [Fact]
    public void ToRpcException_UnexpectedException_InternalWithTraceIdAndNoExceptionText()
    {
        var bug = new NullReferenceException("secret path /models/clip.safetensors");

        var status = Map(bug);

        Assert.Equal((int)StatusCode.Internal, status.Code);
        Assert.Equal($"Internal error; trace id {TraceId}", status.Message);
        Assert.DoesNotContain("secret", status.ToString());
        var info = SingleErrorInfo(status);
        Assert.Equal("INTERNAL_ERROR", info.Reason);
        Assert.Equal(TraceId, info.Metadata["traceId"]);
        var entry = Assert.Single(_logger.Entries);
        Assert.Equal(LogLevel.Error, entry.Level);
        Assert.Same(bug, entry.Exception);
        Assert.Contains(TraceId, entry.Message);
    }

    [Theory]
    [InlineData(ErrorReason.QueueFull, "QUEUE_FULL")]
    [InlineData(ErrorReason.AcceleratorOutOfMemory, "ACCELERATOR_OUT_OF_MEMORY")]
    [InlineData(ErrorReason.Unspecified, "UNSPECIFIED")]
    public void ErrorReasons_ToWire_DropsPrefix(ErrorReason reason, string wire)
    {
        Assert.Equal(wire, ErrorReasons.ToWire(reason));
        Assert.Equal(reason, ErrorReasons.FromWire(wire));
    }

    [Fact]
    public void ErrorReasons_EveryValue_RoundTrips()
    {
        foreach (var reason in Enum.GetValues<ErrorReason>())
        {
            Assert.DoesNotContain("ERROR_REASON_", ErrorReasons.ToWire(reason));
            Assert.Equal(reason, ErrorReasons.FromWire(ErrorReasons.ToWire(reason)));
        }
    }
}
