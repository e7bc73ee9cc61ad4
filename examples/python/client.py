#!/usr/bin/python3
"""MultiModal.Services from Python: python3 client.py [address] [out-dir] [image] (after ./generate.sh).

Debian's python3-grpcio + stubs from Debian's protoc/grpc_python_plugin (build/gen). MULTIMODAL_API_KEY, when set,
is sent as `authorization: Bearer <key>`.
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "build", "gen"))

import grpc  # noqa: E402
from google.rpc import error_details_pb2, status_pb2  # noqa: E402
from multimodal.clip.v1 import clip_service_pb2 as clip, clip_service_pb2_grpc as clip_grpc  # noqa: E402
from multimodal.common.v1 import image_pb2  # noqa: E402
from multimodal.diffusion.v1 import diffusion_service_pb2 as sd, diffusion_service_pb2_grpc as sd_grpc  # noqa: E402
from multimodal.vision.v1 import vision_service_pb2 as vision, vision_service_pb2_grpc as vision_grpc  # noqa: E402

address = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("MULTIMODAL_ADDRESS", "127.0.0.1:8080")
out_dir = sys.argv[2] if len(sys.argv) > 2 else "out"
image_path = sys.argv[3] if len(sys.argv) > 3 else "../red-circle.png"
key = os.environ.get("MULTIMODAL_API_KEY")
metadata = [("authorization", f"Bearer {key}")] if key else []


def print_error(e: grpc.RpcError):
    """The status, then the AIP-193 details from the grpc-status-details-bin trailer (a google.rpc.Status)."""
    print(f"{e.code().name}: {e.details()}")
    for k, v in e.trailing_metadata() or []:
        if k != "grpc-status-details-bin":
            continue
        status = status_pb2.Status.FromString(v)
        for detail in status.details:
            if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
                info = error_details_pb2.ErrorInfo()
                detail.Unpack(info)
                print(f"  ErrorInfo reason={info.reason} domain={info.domain}")
            elif detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
                bad = error_details_pb2.BadRequest()
                detail.Unpack(bad)
                for v in bad.field_violations:
                    print(f"  BadRequest field={v.field}: {v.description}")


def main():
    channel = grpc.insecure_channel(address)
    clips = clip_grpc.ClipServiceStub(channel)

    # 1. Text embeddings.
    res = clips.EmbedTexts(clip.EmbedTextsRequest(texts=["a red circle", "a blue square"], normalize=True), metadata=metadata)
    first = ", ".join(f"{x:.4f}" for x in res.embeddings[0].values[:3])
    print(f"EmbedTexts: {len(res.embeddings)} embeddings, {len(res.embeddings[0].values)} dims, first values [{first}]")

    # 2. Zero-shot classification of an image file.
    with open(image_path, "rb") as f:
        image = image_pb2.Image(data=f.read())
    labels = ["red circle", "blue square", "cat"]
    res = clips.Classify(clip.ClassifyRequest(image=image, labels=labels, template="a photo of a {}"), metadata=metadata)
    top = max(res.scores, key=lambda s: s.probability)
    print(f'Classify: top label "{top.label}" p={top.probability:.4f} of {len(res.scores)} labels')

    # 3. Streamed description: print each delta as it arrives.
    print("DescribeStream: ", end="", flush=True)
    request = vision.DescribeStreamRequest(images=[image], prompt="What is in this picture?", max_tokens=12, temperature=0)
    for msg in vision_grpc.VisionServiceStub(channel).DescribeStream(request, metadata=metadata):
        print(msg.delta, end="", flush=True)
        if msg.finish_reason:
            reason = vision.FinishReason.Name(msg.finish_reason).removeprefix("FINISH_REASON_")
            print(f"\nDescribeStream: finish {reason}, {msg.usage.completion_tokens} completion tokens")

    # 4. Image generation, streamed: progress, previews (JPEG) and the final PNG.
    os.makedirs(out_dir, exist_ok=True)
    request = sd.GenerateImageRequest(prompt="a red circle", steps=4, seed=42,
                                      preview=sd.PreviewOptions(every_n_steps=2))
    for event in sd_grpc.DiffusionServiceStub(channel).GenerateImage(request, metadata=metadata):
        kind = event.WhichOneof("event")
        if kind == "queued":
            print(f"GenerateImage: queued at position {event.queued.position}")
        elif kind == "progress":
            p = event.progress
            line = f"GenerateImage: step {p.step}/{p.total_steps}"
            for i, img in enumerate(p.preview.images):
                path = os.path.join(out_dir, f"preview-step{p.step}-{i}.jpg")
                with open(path, "wb") as f:
                    f.write(img.data)
                line += f", preview {path}"
            print(line)
        else:
            for img, seed in zip(event.result.images, event.result.seeds):
                path = os.path.join(out_dir, f"image-seed{seed}.png")
                with open(path, "wb") as f:
                    f.write(img.data)
                print(f"GenerateImage: saved {path} ({img.width}x{img.height}, {event.result.steps_run} steps)")

    # 5. An error: no texts. INVALID_ARGUMENT with ErrorInfo + BadRequest (AIP-193).
    try:
        clips.EmbedTexts(clip.EmbedTextsRequest(texts=[]), metadata=metadata)
        print("Error case: unexpectedly succeeded")
        return 1
    except grpc.RpcError as e:
        print("Error case: ", end="")
        print_error(e)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except grpc.RpcError as e:
        print()
        print("Failed: ", end="")
        print_error(e)
        sys.exit(1)
