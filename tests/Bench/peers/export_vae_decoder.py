"""ONNX export of the SD 1.5 VAE decoder for `make bench-peers` (the peer kit in ../shared/peer-bench has no VAE).

  tests/Bench/peers/export_vae_decoder.sh [ANCHORS_ONNX_DIR]     (sources the kit's env.sh, then runs this file)

diffusers 0.25.1 AutoencoderKL with the SD 1.5 VAE config (the kit's real_configs.SD15_VAE), random weights (seed 0),
float32. The exported graph is what the project's AutoencoderKL.Decode computes and DiffusionBench/PeersBench time:
post_quant_conv -> Decoder, on latents already divided by scaling_factor (the pipeline's job, outside the timed call).
  latent f32 [1,4,64,64] -> sample f32 [1,3,512,512], opset 17, static shapes
Writes OUTDIR/vae/vae_decoder_sd15.onnx, ref_vae_latent.f32 (seed 11) and ref_vae_sample.f32 (the PyTorch output
of the same module, unpatched), export_info.json. The bench checks ORT's first call against that reference.
"""
import json
import os
import sys
import time

sys.path.insert(0, os.environ["GOLDEN_TOOLS"])
import common  # noqa: F401,E402  (hides sentencepiece, sets threads)
import torch  # noqa: E402

torch.set_num_threads(2)
sys.path.insert(0, os.path.join(os.environ["GOLDEN_TOOLS"], "anchors", "py"))
import real_configs as rc  # noqa: E402
from bench_torch import _baddbmm_beta0  # noqa: E402  (the kit's export-only patch, see its docstring)


class VaeDecodeWrap(torch.nn.Module):
    def __init__(self, vae):
        super().__init__()
        self.vae = vae

    def forward(self, latent):
        return self.vae.decode(latent, return_dict=False)[0]


def main(outdir):
    from diffusers import AutoencoderKL
    d = os.path.join(outdir, "vae")
    os.makedirs(d, exist_ok=True)
    torch.manual_seed(0)
    vae = AutoencoderKL(**rc.SD15_VAE).eval()
    wrap = VaeDecodeWrap(vae).eval()
    g = torch.Generator().manual_seed(11)
    z = torch.randn(1, 4, 64, 64, generator=g)
    info = {"torch": torch.__version__, "config": rc.SD15_VAE,
            "decoder_params": sum(p.numel() for n, p in vae.named_parameters()
                                  if n.startswith(("decoder.", "post_quant_conv."))),
            "attn_processor": type(next(iter(vae.attn_processors.values()))).__name__}
    t0 = time.time()
    with torch.inference_mode():
        ref = wrap(z)
    info["ref_forward_s"] = time.time() - t0
    z.numpy().astype("<f4").tofile(f"{d}/ref_vae_latent.f32")
    ref.numpy().astype("<f4").tofile(f"{d}/ref_vae_sample.f32")
    info["refs"] = {"latent": {"file": "ref_vae_latent.f32", "shape": list(z.shape), "dtype": "float32"},
                    "sample": {"file": "ref_vae_sample.f32", "shape": list(ref.shape), "dtype": "float32",
                               "absmax": float(ref.abs().max())}}
    path = f"{d}/vae_decoder_sd15.onnx"
    info["export_patch"] = "torch.baddbmm(x, b1, b2, beta=0, alpha=a) traced as a * torch.bmm(b1, b2)"
    orig = torch.baddbmm
    torch.baddbmm = _baddbmm_beta0(orig)
    t0 = time.time()
    try:
        with torch.no_grad():
            torch.onnx.export(wrap, (z,), path, opset_version=17, input_names=["latent"], output_names=["sample"],
                              do_constant_folding=True)
    finally:
        torch.baddbmm = orig
    info["export_s"] = time.time() - t0
    info["onnx_bytes"] = os.path.getsize(path)
    with open(f"{d}/export_info.json", "w") as f:
        json.dump(info, f, indent=1)
    print(json.dumps({k: v for k, v in info.items() if k != "config"}), flush=True)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "/tmp/anchors/onnx")
