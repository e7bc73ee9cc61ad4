# MultiModal.Services — one entry point for building, testing and running the fleet.
#   make run            the whole fleet on built-in small models, gateway on $(PORT) (default 8080); Ctrl-C stops it
#                       (API_KEYS_FILE=<keys.json> turns API keys on at the gateway, also for run-gateway; gateway/README.md)
#   make test           everything CI runs (buf lint, unit, golden, integration, example clients, two `make run-clip` at once)
#   make test-examples  the C#, Node, Python and C++ clients in examples/ against a fleet of their own (examples/README.md)
#   make test-failover [FAILOVER_SECONDS=30]  kill -9 one of two CLIP replicas under 32 clients' load (issue 9; gateway/README.md)
#   make run-clip MODEL=<hf-clip-folder> PORT=<n>        one CLIP service in the foreground
#   make run-vision MODEL=<llava-hf-folder> PORT=<n>     one Vision service in the foreground
#   make run-diffusion MODEL=<diffusers-folder> PORT=<n> one Diffusion service in the foreground
#   make run-gateway PORT=<n> CLIP=<url>[,<url>...] [DIFFUSION=...]  the gateway in the foreground
#   make pack-mm        the `mm` command line as a dotnet tool package in artifacts/mm (cli/; ./mm runs the built one)
#   make models         small random-weight models (real tokenizers) under models/ (benchmarks, tests; Vision and Diffusion's defaults)
#   make train-clip     retrains the built-in CLIP (builtin-models/clip) on the shapes world and evaluates it (~35 min on 2 cores)
#   make train-vision   retrains the built-in LLaVA (builtin-models/vision) on builtin-models/clip's frozen tower and evaluates it (~9 min, one thread)
#   make train-diffusion trains a small SD pipeline of the shapes world (builtin-models/diffusion) on builtin-models/clip's text tower (~45-75 min on 2 cores)
#   make eval-diffusion  32 prompts (every color x shape) and 32 img2img recolourings, classified by builtin-models/clip
#   make train-demo     all three built-in models from scratch, then their metrics (train-clip, train-vision, train-diffusion and the evals)
#   make eval-vision    greedy color/shape answers of builtin-models/vision on 500 held-out rendered images
#   make eval-clip      zero-shot accuracy of builtin-models/clip on 500 held-out rendered and 500 PIL-drawn images (per size, shape confusion, unseen prompts)
#   make fuzz TARGET=<name> SECONDS=<n>   AFL++ + SharpFuzz on one target (make fuzz-all SECONDS=<n>: each in turn; tests/Fuzz/README.md)
#   make bench          all benchmarks (bench-clip, bench-vision, bench-diffusion, bench-load; method and results: tests/Bench/README.md)
#   make bench-peers    every result as a ratio to ONNX Runtime in the same process (after `make peers-prep`; PEERS_ARGS="--only clip")
#   make bench-gateway  EmbedTexts direct vs through the gateway (keys off/on): p50/p99, throughput at 1 and 64 clients
#   make bench-overload each service through the gateway at ~10x what it serves (not in CI; tests/Bench/README.md)
#   make images         the four CPU container images with buildah (make image-archive: OCI archives; make pin-images:
#                       their digests into k8s/overlays/gpu; build/images/README.md)
#   make soak MINUTES=30  the fleet under mixed load, RSS/heap/threads/fds sampled into tests/Bench/soak/ (not in CI)
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := build

CONFIG ?= Release
PORT ?= 8080
MODELS ?= models
# Trained, committed models (issue 11): what `make run` and `make run-clip` serve by default (builtin-models/README.md).
BUILTIN ?= builtin-models
CLIP_PORT ?= 5101
DIFFUSION_PORT ?= 5103
VISION_PORT ?= 5102
DOTNET ?= dotnet
BUF_VERSION := 1.75.0
BUF := .tools/node_modules/.bin/buf
out = $(1)/bin/$(CONFIG)/net10.0/MultiModal.$(2).dll
CLIP_DLL := $(call out,services/Clip,Clip)
GATEWAY_DLL := $(call out,gateway,Gateway)
DIFFUSION_DLL := $(call out,services/Diffusion,Diffusion)
VISION_DLL := $(call out,services/Vision,Vision)
MODELKIT_DLL := $(call out,services/ModelKit,ModelKit)
TRAINING_DLL := $(call out,services/Training,Training)
BENCH_DLL := tests/Bench/bin/$(CONFIG)/net10.0/MultiModal.Tests.Bench.dll
# 1: the example clients also run against a gateway with a keys file (with their key: pass; without: UNAUTHENTICATED).
EXAMPLES_WITH_API_KEYS ?= 1

.PHONY: train-demo train-clip eval-clip train-vision eval-vision train-diffusion eval-diffusion build built pack-mm test test-failover check-run-race test-unit test-golden test-integration test-examples proto-lint models run run-clip run-vision run-diffusion run-gateway bench bench-gateway bench-clip bench-vision bench-diffusion bench-load bench-peers peers-prep bench-overload soak fuzz fuzz-all images image-archive pin-images test-images k8s-render clean

# Builds run under a lock (build/locked-build.sh), and run-* targets depend on `built`: a stamp newer than every
# source, so starting two replicas at once (make run-clip PORT=a & make run-clip PORT=b) builds at most once and
# never rewrites bin/ under a running replica.
STAMP := .build-stamp.$(CONFIG)
SOURCES := $(shell find services gateway cli tests protos build -type f \( -name '*.cs' -o -name '*.csproj' -o -name '*.proto' \
	-o -name '*.props' -o -name '*.targets' -o -name 'appsettings*.json' \) -not -path '*/bin/*' -not -path '*/obj/*') \
	$(shell find gateway/Playground/wwwroot -type f) \
	Directory.Build.props Directory.Build.targets Directory.Packages.props global.json MultiModal.Services.sln
LOCKED_BUILD = build/locked-build.sh --stamp $(STAMP) -- $(DOTNET) build MultiModal.Services.sln -c $(CONFIG) -v q -nologo

build:
	$(LOCKED_BUILD)

built: $(STAMP)

$(STAMP): $(SOURCES)
	$(LOCKED_BUILD)

# `mm` as a dotnet tool: dotnet tool install --global --add-source artifacts/mm MultiModal.Cli (then `mm --help`).
pack-mm:
	build/locked-build.sh -- $(DOTNET) pack cli/Cli.csproj -c $(CONFIG) -v q -nologo -o artifacts/mm

$(BUF):
	npm install --silent --no-audit --no-fund --prefix .tools @bufbuild/buf@$(BUF_VERSION) >/dev/null

proto-lint: $(BUF)
	cd protos && ../$(BUF) lint && echo "buf lint: ok"

models: $(MODELS)/clip/model.safetensors $(MODELS)/sd/model_index.json $(MODELS)/llava/model.safetensors

$(MODELS)/clip/model.safetensors:
	build/locked-build.sh -- $(DOTNET) build services/ModelKit/ModelKit.csproj -c $(CONFIG) -v q -nologo
	$(DOTNET) $(MODELKIT_DLL) clip $(MODELS)/clip --preset small --seed 0

$(MODELS)/llava/model.safetensors:
	build/locked-build.sh -- $(DOTNET) build services/ModelKit/ModelKit.csproj -c $(CONFIG) -v q -nologo
	$(DOTNET) $(MODELKIT_DLL) llava $(MODELS)/llava --preset tiny --seed 0

$(MODELS)/sd/model_index.json:
	build/locked-build.sh -- $(DOTNET) build services/ModelKit/ModelKit.csproj -c $(CONFIG) -v q -nologo
	$(DOTNET) $(MODELKIT_DLL) sd $(MODELS)/sd --preset tiny --seed 0

test: build proto-lint models
	@build/run-tests.sh $(CONFIG) tests/Unit tests/Golden tests/Integration
	@EXAMPLES_WITH_API_KEYS=$(EXAMPLES_WITH_API_KEYS) examples/run-all.sh $(CONFIG)
	@$(MAKE) --no-print-directory check-run-race

# Two `make run-clip` at once on free ports (the issue-9 build race): both must come up ready.
check-run-race: models
	build/check-run-race.sh $(MODELS)/clip $(CONFIG)

# Issue 9's Done-when at full length: 32 clients for FAILOVER_SECONDS, one of two CLIP replicas killed with SIGKILL
# and restarted; prints calls, failures, time to mark down and time to serve again (tests/Integration/Gateway/ClipFailoverTests.cs).
FAILOVER_SECONDS ?= 30
test-failover: build
	FAILOVER_SECONDS=$(FAILOVER_SECONDS) FAILOVER_CLIENTS=32 $(DOTNET) test tests/Integration/Integration.csproj -c $(CONFIG) \
		--no-build --nologo --filter "FullyQualifiedName~ClipFailoverTests" --logger "console;verbosity=detailed"

test-unit test-golden test-integration: build
	@build/run-tests.sh $(CONFIG) tests/$(patsubst test-%,%,$@)

# Needs the Debian packages of examples/install-deps.sh (CI runs it); EXAMPLES_LANGUAGES="python node" runs a subset.
test-examples: build models
	@EXAMPLES_WITH_API_KEYS=$(EXAMPLES_WITH_API_KEYS) examples/run-all.sh $(CONFIG)

# glibc malloc from process start for the model services (services/Models/Runtime/HostMemoryReuse.cs): one arena, large
# blocks from the heap. build/run-fleet.sh and the Containerfiles set the same; a GLIBC_TUNABLES of the caller's wins.
MALLOC_TUNABLES = GLIBC_TUNABLES="$${GLIBC_TUNABLES:-glibc.malloc.arena_max=1:glibc.malloc.mmap_max=0}"

run: built models
	@CLIP_MODEL=$(abspath $(BUILTIN)/clip) VISION_MODEL=$(abspath $(BUILTIN)/vision) DIFFUSION_MODEL=$(abspath $(BUILTIN)/diffusion) build/run-fleet.sh $(CONFIG) $(PORT) $(MODELS) $(if $(API_KEYS_FILE),--Gateway:ApiKeysFile=$(abspath $(API_KEYS_FILE)))

run-clip: built
	$(MALLOC_TUNABLES) $(DOTNET) $(CLIP_DLL) --contentRoot $(abspath $(dir $(CLIP_DLL))) --urls http://127.0.0.1:$(if $(filter command line,$(origin PORT)),$(PORT),$(CLIP_PORT)) \
		--Clip:ModelPath=$(abspath $(or $(MODEL),$(BUILTIN)/clip))

# The training CLI runs from a copy of its build output, so a rebuild during a long run cannot pull the dll from under it.
TRAIN_BIN := artifacts/train/bin
PIL_EVAL := artifacts/train/pil-world-500
$(PIL_EVAL)/labels.jsonl: services/ShapesWorld/Python/render_world.py
	/usr/bin/python3 services/ShapesWorld/Python/render_world.py $(PIL_EVAL) --count 500 --seed 7

# The committed CLIP's recipe (builtin-models/clip/README.md): from random weights, patch 8. A second phase starts from
# a checkpoint with TRAIN_ARGS="--init-from artifacts/train/clip/checkpoint/model.dat --seed 2 ...".
CLIP_RECIPE := --steps 6000 --patch 8 --threads 2 --other-images $(PIL_EVAL)
train-clip: $(PIL_EVAL)/labels.jsonl
	$(call train_resumable,clip,$(CLIP_RECIPE))

eval-clip: $(PIL_EVAL)/labels.jsonl
	build/locked-build.sh -- $(DOTNET) build services/Training/Training.csproj -c $(CONFIG) -v q -nologo
	$(DOTNET) $(TRAINING_DLL) eval clip --model $(BUILTIN)/clip --count 500 --by-size
	$(DOTNET) $(TRAINING_DLL) eval clip --model $(BUILTIN)/clip --count 500 --templates heldout
	$(DOTNET) $(TRAINING_DLL) eval clip --model $(BUILTIN)/clip --images $(PIL_EVAL) --by-size

# A long run resumes from its last checkpoint (every 100 steps) if the process dies, up to 5 tries: runs of tens of
# thousands of steps have died at random inside a libtorch call (an AccessViolation, or "toFloat: Expected false to be
# true" from a garbage Scalar). TorchSharp 0.107 builds temporary Scalars (the alpha of `a + b`, `a - b`) whose
# finalizer can free them while the native call still reads them (dotnet/TorchSharp#1496 is the upstream fix).
# $(call train_resumable,<model>,<args>)
define train_resumable
	build/locked-build.sh -- $(DOTNET) build services/Training/Training.csproj -c $(CONFIG) -v q -nologo
	rm -rf $(TRAIN_BIN) && mkdir -p $(TRAIN_BIN) && cp -r $(dir $(TRAINING_DLL)). $(TRAIN_BIN)/
	rm -rf artifacts/train/$(1)
	for try in 1 2 3 4 5; do \
		$(DOTNET) $(TRAIN_BIN)/MultiModal.Training.dll train $(1) --out $(BUILTIN)/$(1) \
			--work artifacts/train/$(1) --resume $(2) $(TRAIN_ARGS) && exit 0; \
		echo "train-$(1): the run died; resuming from its checkpoint" >&2; \
	done; exit 1
endef

train-vision:
	$(call train_resumable,vision,--clip $(BUILTIN)/clip --steps 3000 --features full --threads 1)

# The diffusion pipeline's recipe (services/Training/Diffusion, builtin-models/diffusion/README.md): the autoencoder,
# then the UNet on its latents, conditioned on builtin-models/clip's text tower; the folder holds the UNet weights'
# moving average and samples with DPM++ 2M (the trainer's default --sampler).
DIFFUSION_RECIPE := --clip $(BUILTIN)/clip --vae-steps 1200 --unet-steps 4000 --unet-layers 2 --ema-decay 0.999 --threads 2
train-diffusion:
	$(call train_resumable,diffusion,$(DIFFUSION_RECIPE))

eval-diffusion:
	build/locked-build.sh -- $(DOTNET) build services/Training/Training.csproj -c $(CONFIG) -v q -nologo
	$(DOTNET) $(TRAINING_DLL) eval diffusion --model $(BUILTIN)/diffusion --clip $(BUILTIN)/clip

# Every built-in model from scratch, in dependency order (the LLaVA and the pipeline use the CLIP), then every metric
# of the model cards.
train-demo:
	$(MAKE) train-clip
	$(MAKE) train-vision eval-vision
	$(MAKE) train-diffusion eval-diffusion

eval-vision:
	build/locked-build.sh -- $(DOTNET) build services/Training/Training.csproj -c $(CONFIG) -v q -nologo
	$(DOTNET) $(TRAINING_DLL) eval vision --model $(BUILTIN)/vision --count 500

run-vision: built
	@test -n "$(MODEL)" || { echo "usage: make run-vision MODEL=<llava-hf-folder> [PORT=5102]"; exit 2; }
	$(MALLOC_TUNABLES) $(DOTNET) $(VISION_DLL) --contentRoot $(abspath $(dir $(VISION_DLL))) --urls http://127.0.0.1:$(if $(filter command line,$(origin PORT)),$(PORT),$(VISION_PORT)) \
		--Vision:ModelPath=$(abspath $(MODEL))

run-diffusion: built
	@test -n "$(MODEL)" || { echo "usage: make run-diffusion MODEL=<diffusers-sd-folder> [PORT=5103]"; exit 2; }
	$(MALLOC_TUNABLES) $(DOTNET) $(DIFFUSION_DLL) --contentRoot $(abspath $(dir $(DIFFUSION_DLL))) --urls http://127.0.0.1:$(if $(filter command line,$(origin PORT)),$(PORT),$(DIFFUSION_PORT)) \
		--Diffusion:ModelPath=$(abspath $(MODEL))

run-gateway: built
	$(DOTNET) $(GATEWAY_DLL) --contentRoot $(abspath $(dir $(GATEWAY_DLL))) --urls http://127.0.0.1:$(PORT) $(if $(CLIP),--Gateway:Upstreams:Clip=$(CLIP)) \
		$(if $(VISION),--Gateway:Upstreams:Vision=$(VISION)) $(if $(DIFFUSION),--Gateway:Upstreams:Diffusion=$(DIFFUSION)) \
		$(if $(API_KEYS_FILE),--Gateway:ApiKeysFile=$(abspath $(API_KEYS_FILE)))

# `make bench` runs them all (CPU: ~20-30 min, most of it the SD 1.5-shaped UNet); bench-clip / bench-vision /
# bench-diffusion / bench-load run one. Method and recorded results: tests/Bench/README.md.
bench: bench-clip bench-vision bench-diffusion bench-load

bench-clip: build models
	@test -f $(MODELS)/clip-vit-b-32/model.safetensors || $(DOTNET) $(MODELKIT_DLL) clip $(MODELS)/clip-vit-b-32 --preset vit-b-32 --seed 0
	$(DOTNET) $(BENCH_DLL) --model $(MODELS)/clip-vit-b-32

bench-vision: build models
	@test -f $(MODELS)/llava-tinyllama/model.safetensors || $(DOTNET) $(MODELKIT_DLL) llava $(MODELS)/llava-tinyllama --preset tinyllama-vitl336 --seed 0
	$(DOTNET) $(BENCH_DLL) --vision $(MODELS)/llava-tinyllama --decode-tokens 8

bench-diffusion: build models
	@test -f $(MODELS)/sd15/model_index.json || $(DOTNET) $(MODELKIT_DLL) sd $(MODELS)/sd15 --preset sd15 --seed 0
	$(DOTNET) $(BENCH_DLL) --diffusion $(abspath $(MODELS)/sd15)

# Not in `make bench`: the gateway's own cost (one CLIP service on the built-in model, a gateway with keys off and one
# with keys on, all on loopback), interleaved rounds; method and results in tests/Bench/README.md "Gateway cost".
bench-gateway: build models
	$(DOTNET) $(BENCH_DLL) --gateway $(MODELS)/clip

bench-load: build models
	@test -f $(MODELS)/llava-tinyllama/model.safetensors || $(DOTNET) $(MODELKIT_DLL) llava $(MODELS)/llava-tinyllama --preset tinyllama-vitl336 --seed 0
	@test -f $(MODELS)/sd15/model_index.json || $(DOTNET) $(MODELKIT_DLL) sd $(MODELS)/sd15 --preset sd15 --seed 0
	$(DOTNET) $(BENCH_DLL) --load $(MODELS)/llava-tinyllama
	$(DOTNET) $(BENCH_DLL) --load $(MODELS)/sd15

# Not in `make bench` nor CI: this project vs ONNX Runtime 1.31.1 in one process, interleaved per case (CLIP ViT-B/32
# image/text b1/8/32, SD 1.5 UNet CFG step, VAE decode 512²), ratio ours/ORT time; CPU model + commit in the header.
# `make peers-prep` once: the peer kit's ONNX exports (../shared/peer-bench, ~10 min, ~10 GB peak) + our VAE decoder
# export, into $(ANCHORS_DIR)/onnx. PEERS_ARGS: --only clip|unet|vae|sd, --rounds N (CLIP, 7), --sd-rounds N (3),
# --torch-logs $(ANCHORS_DIR)/logs (PyTorch rows from the kit's JSONL, measured in another window). tests/Bench/README.md.
ANCHORS_DIR ?= /tmp/anchors
PEER_KIT ?= ../shared/peer-bench
PEERS_ARGS ?=

peers-prep:
	ANCHORS_DIR=$(ANCHORS_DIR) nice -n 10 $(PEER_KIT)/anchors/run_quiet.sh prep
	ANCHORS_DIR=$(ANCHORS_DIR) GOLDEN_TOOLS=$(abspath $(PEER_KIT)) nice -n 10 tests/Bench/peers/export_vae_decoder.sh $(ANCHORS_DIR)/onnx

bench-peers: build
	@test -f $(MODELS)/clip-vit-b-32/model.safetensors || $(DOTNET) $(MODELKIT_DLL) clip $(MODELS)/clip-vit-b-32 --preset vit-b-32 --seed 0
	@test -f $(MODELS)/sd15/model_index.json || $(DOTNET) $(MODELKIT_DLL) sd $(MODELS)/sd15 --preset sd15 --seed 0
	nice -n $(NICE) $(DOTNET) $(BENCH_DLL) --peers $(ANCHORS_DIR)/onnx --clip $(MODELS)/clip-vit-b-32 --sd $(abspath $(MODELS)/sd15) $(PEERS_ARGS)

# Not in `make bench` nor CI: both start the whole fleet (built-in models) on free loopback ports themselves.
# OVERLOAD_SECONDS is the overload phase per service; MINUTES the soak's length; NICE the niceness of both (shared CPUs).
OVERLOAD_SECONDS ?= 60
MINUTES ?= 30
NICE ?= 5
SOAK_OUT ?= tests/Bench/soak

bench-overload: build models
	nice -n $(NICE) $(DOTNET) $(BENCH_DLL) --overload $(MODELS) --seconds $(OVERLOAD_SECONDS)

soak: build models
	nice -n $(NICE) $(DOTNET) $(BENCH_DLL) --soak $(MODELS) --minutes $(MINUTES) --out $(SOAK_OUT)

# Fuzzing (needs afl++: apt-get install afl++; the sharpfuzz instrumenter is a local dotnet tool, dotnet-tools.json).
# One target at a time under nice -n 10; crashes and hangs land in tests/Fuzz/crashes/<target>/, numbers in .fuzz/results.tsv.
FUZZ_TARGETS := image png-text safetensors clip-tokenizer llama-tokenizer clip-request vision-request diffusion-request
SECONDS ?= 600
FUZZ_TIMEOUT_MS ?= 5000

fuzz: build
	@test -n "$(TARGET)" || { echo "usage: make fuzz TARGET=<$(subst $() ,|,$(FUZZ_TARGETS))> [SECONDS=600]"; exit 2; }
	tests/Fuzz/fuzz.sh $(TARGET) $(SECONDS) $(CONFIG) $(FUZZ_TIMEOUT_MS)

fuzz-all: build
	@for t in $(FUZZ_TARGETS); do tests/Fuzz/fuzz.sh $$t $(SECONDS) $(CONFIG) $(FUZZ_TIMEOUT_MS) || exit 1; done

# Container images (buildah, daemonless; build/images/README.md): make images [IMAGES="clip gateway"], image-archive.
IMAGES ?= gateway clip vision diffusion

images:
	@build/images/build.sh $(IMAGES)

image-archive: images
	@build/images/archive.sh

# The gpu overlay's images by digest (k8s/overlays/gpu images:): pushed digests (.images/digests/<name>) or local builds.
pin-images:
	@build/images/pin-images.sh $(IMAGES)

# Runs the built images as k8s/overlays/dev says and calls each service through the gateway container (needs python3-yaml, python3-grpcio).
test-images:
	IMAGES="$(IMAGES)" /usr/bin/python3 build/images/test-images.py

k8s-render:
	kubectl kustomize k8s/overlays/dev >/dev/null && kubectl kustomize k8s/overlays/gpu >/dev/null && echo "k8s overlays render"

clean:
	$(DOTNET) clean MultiModal.Services.sln -c $(CONFIG) -v q -nologo
