#!/usr/bin/env python3
"""`make test-images [IMAGES="gateway clip"]`: the kubelet's job done by hand on this machine, for the images that
`make images` built. For each Deployment of the rendered dev overlay (k8s/overlays/dev), as its manifest says:
the init containers, then the container, each with the image, command/args (else the image's entrypoint), env and
volume mounts (/models a host folder, /tmp a fresh one), as the pod's runAsUser/runAsGroup, via
`buildah run --isolation chroot` on the host network. The one thing replaced is cluster DNS: the gateway's upstream
URLs name Services (http://clip:5101), here they point at 127.0.0.1 with the same port; and the metrics port, which
every pod has for itself (9464), is moved per process (19464 + n) since all share this host's network. Then, through the gateway
container only: grpc.health.v1 readiness SERVING for every image, and the Python example client's calls for every
model service started (EmbedTexts/Classify, DescribeStream, GenerateImage stream). Exit 0 only if all of it held.
readOnlyRootFilesystem: `buildah run` has no read-only root, so each container's root file system is compared before
and after its process ran (and served the calls): any path it added, removed or rewritten outside its volumes fails."""
import base64, hashlib, json, os, re, shutil, subprocess, sys, tempfile, time, signal
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
STORAGE = os.environ.get("STORAGE_DRIVER", "vfs")
os.environ.setdefault("CONTAINERS_CONF", os.path.join(ROOT, "build/images/containers.conf"))
WANTED = (os.environ.get("IMAGES") or "gateway clip vision diffusion").split()
ORDER = ["clip", "vision", "diffusion", "gateway"]          # the gateway last: its upstreams are up by then


def buildah(*args, **kw):
    return subprocess.run(["buildah", "--storage-driver", STORAGE, *args], check=True, text=True, capture_output=True, **kw).stdout.strip()


def health(port, service, deadline):
    """grpc.health.v1.Health/Check over h2c without generated stubs: HealthCheckRequest{service} is field 1."""
    import grpc
    request = b"\x0a" + bytes([len(service)]) + service.encode()
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        check = channel.unary_unary("/grpc.health.v1.Health/Check", request_serializer=None, response_deserializer=None)
        while True:
            try:
                if check(request, timeout=2) == b"\x08\x01":           # status: SERVING
                    return True
            except grpc.RpcError:
                pass
            if time.monotonic() > deadline:
                return False
            time.sleep(0.5)


def call_through(address, services, key):
    """One call per model service through the gateway, with the example client's stubs (examples/python)."""
    subprocess.run([os.path.join(ROOT, "examples/python/generate.sh")], check=True)
    sys.path.insert(0, os.path.join(ROOT, "examples/python/build/gen"))
    import grpc
    from multimodal.clip.v1 import clip_service_pb2 as clip, clip_service_pb2_grpc as clip_grpc
    from multimodal.common.v1 import image_pb2
    from multimodal.diffusion.v1 import diffusion_service_pb2 as sd, diffusion_service_pb2_grpc as sd_grpc
    from multimodal.vision.v1 import vision_service_pb2 as vision, vision_service_pb2_grpc as vision_grpc
    lines = []
    metadata = [("authorization", f"Bearer {key}")] if key else []
    with grpc.insecure_channel(address) as channel, open(os.path.join(ROOT, "examples/red-circle.png"), "rb") as f:
        image = image_pb2.Image(data=f.read())
        try:
            if "clip" in services:
                res = clip_grpc.ClipServiceStub(channel).EmbedTexts(clip.EmbedTextsRequest(texts=["a red circle"]), timeout=60, metadata=metadata)
                lines.append(f"clip EmbedTexts: {len(res.embeddings[0].values)} dims")
                if key:                                   # keys on in the overlay: no key, no call
                    try:
                        clip_grpc.ClipServiceStub(channel).EmbedTexts(clip.EmbedTextsRequest(texts=["a red circle"]), timeout=60)
                        lines.append("FAILED: EmbedTexts without the key was served")
                    except grpc.RpcError as e:
                        if e.code() != grpc.StatusCode.UNAUTHENTICATED:
                            raise
                        lines.append("clip EmbedTexts without the key: UNAUTHENTICATED")
            if "vision" in services:
                request = vision.DescribeStreamRequest(images=[image], prompt="What is in this picture?", max_tokens=4, temperature=0)
                deltas = list(vision_grpc.VisionServiceStub(channel).DescribeStream(request, timeout=120, metadata=metadata))
                lines.append(f"vision DescribeStream: {len(deltas)} messages, finish {deltas[-1].finish_reason}")
            if "diffusion" in services:
                request = sd.GenerateImageRequest(prompt="a red circle", steps=2, seed=1, preview=sd.PreviewOptions(every_n_steps=1))
                events = [e.WhichOneof("event") for e in sd_grpc.DiffusionServiceStub(channel).GenerateImage(request, timeout=120, metadata=metadata)]
                if events[-1] != "result" or "progress" not in events:
                    raise RuntimeError(f"GenerateImage events {events}")
                lines.append(f"diffusion GenerateImage: {events.count('progress')} progress events, then the result")
        except Exception as e:          # grpc.RpcError included: the status says what went wrong
            lines.append(f"FAILED: call through the gateway container: {e}")
    return lines


def container_env(spec, config_maps):
    """The environment as the kubelet builds it: each envFrom ConfigMap's keys, then env (which wins)."""
    env = {}
    for source in spec.get("envFrom", []):
        ref = source["configMapRef"]
        data = config_maps.get(ref["name"]) if ref.get("optional") else config_maps[ref["name"]]
        for k, v in (data or {}).items():
            env[source.get("prefix", "") + k] = v
    for e in spec.get("env", []):
        ref = e.get("valueFrom", {}).get("configMapKeyRef")
        env[e["name"]] = config_maps[ref["name"]][ref["key"]] if ref else e.get("value", "")
    return env


def rootfs(container):
    """The container's root file system as the host sees it: every path, files with (mtime, size), folders as None.
    Volumes are bind mounts inside the container's own mount namespace, so nothing written to them shows here."""
    root = buildah("mount", container).strip()
    state = {}
    for folder, dirs, files in os.walk(root):
        for entry in dirs + files:
            path = os.path.join(folder, entry)
            st = os.lstat(path)
            state[os.path.relpath(path, root)] = None if entry in dirs else (st.st_mtime_ns, st.st_size)
    return state


# Written by `buildah run` itself each time it starts a process (as root, before the process), not by the process.
BUILDAH_FILES = {"run/.containerenv"}


def root_writes(before, after):
    """What changed in the root file system: paths added, removed or rewritten (buildah's own files aside)."""
    return sorted(p for p in before.keys() | after.keys()
                  if before.get(p, "gone") != after.get(p, "gone") and p not in BUILDAH_FILES)


def main():
    if shutil.which("buildah") is None:
        print("test-images: buildah is not installed (apt-get install buildah); skipping", file=sys.stderr)
        return 0
    rendered = subprocess.run(["kubectl", "kustomize", os.path.join(ROOT, "k8s/overlays/dev")], check=True, text=True, capture_output=True).stdout
    objects = [d for d in yaml.safe_load_all(rendered) if d]
    deployments = {d["metadata"]["name"]: d for d in objects if d["kind"] == "Deployment"}
    secrets = {d["metadata"]["name"]: d for d in objects if d["kind"] == "Secret"}
    config_maps = {d["metadata"]["name"]: d.get("data", {}) for d in objects if d["kind"] == "ConfigMap"}
    work = tempfile.mkdtemp(prefix="test-images-")
    models = os.path.join(work, "models")
    os.makedirs(models)
    containers, processes, failures, roots = [], [], [], []
    try:
        for name in [n for n in ORDER if n in WANTED]:
            pod = deployments[name]["spec"]["template"]["spec"]
            user = f'{pod["securityContext"]["runAsUser"]}:{pod["securityContext"].get("runAsGroup", pod["securityContext"]["runAsUser"])}'
            os.chown(models, *map(int, user.split(":")))           # fsGroup's effect on the emptyDir
            for spec in pod.get("initContainers", []) + pod["containers"]:
                is_init = spec in pod.get("initContainers", [])
                tmp = tempfile.mkdtemp(dir=work)
                os.chown(tmp, *map(int, user.split(":")))
                container = buildah("from", "-q", spec["image"])
                containers.append(container)
                command = spec.get("command") or json.loads(buildah("inspect", "--type", "image", spec["image"]))["OCIv1"]["config"]["Entrypoint"]
                argv = list(command) + list(spec.get("args", []))
                env = []
                for key, value in container_env(spec, config_maps).items():
                    if key.startswith("Gateway__Upstreams__"):
                        value = re.sub(r"//[a-z0-9.-]+:", "//127.0.0.1:", value)   # cluster DNS → this host
                    if key == "Telemetry__PrometheusPort":      # every pod has its own 9464; here one network
                        value = str(int(value) + 10000 + ORDER.index(name))
                    env += ["--env", f"{key}={value}"]
                mounts = []
                volumes = {v["name"]: v for v in pod.get("volumes", [])}
                for m in spec.get("volumeMounts", []):
                    host = {"models": models, "tmp": tmp}.get(m["name"])
                    if host is None and "secret" in volumes.get(m["name"], {}):     # the kubelet writes each key as a file
                        host = tempfile.mkdtemp(dir=work)
                        secret = secrets[volumes[m["name"]]["secret"]["secretName"]]
                        for k, v in secret.get("data", {}).items():
                            with open(os.path.join(host, k), "wb") as f:
                                f.write(base64.b64decode(v))
                        for k, v in secret.get("stringData", {}).items():
                            with open(os.path.join(host, k), "w") as f:
                                f.write(v)
                        subprocess.run(["chmod", "-R", "a+rX", host], check=True)
                    if host:
                        mounts += ["-v", f'{host}:{m["mountPath"]}' + (":ro" if m.get("readOnly") else "")]
                run = ["buildah", "--storage-driver", STORAGE, "run", "--isolation", "chroot", "--user", user,
                       *env, *mounts, container, "--", *argv]
                # readOnlyRootFilesystem, checked: `buildah run` has no read-only root, so run a no-op first (buildah
                # writes its own files then: hosts, resolv.conf, mount points), note the root, and after the real
                # process compare: anything it changed outside its volumes would fail on a read-only root.
                subprocess.run(run[:run.index("--") + 1] + ["/bin/true"], check=True, capture_output=True)
                roots.append((f"{name}/{spec['name']}", container, rootfs(container)))
                log = open(os.path.join(work, f'{name}-{spec["name"]}.log'), "w")
                print(f"test-images: {name}/{spec['name']}: {' '.join(argv)} as {user}", flush=True)
                if is_init:
                    if subprocess.run(run, stdout=log, stderr=subprocess.STDOUT).returncode != 0:
                        failures.append(f"{name}/{spec['name']} (init) failed: {open(log.name).read()[-2000:]}")
                        raise StopIteration
                    continue
                processes.append((name, subprocess.Popen(run, stdout=log, stderr=subprocess.STDOUT, start_new_session=True), log.name))
                port = next(p["containerPort"] for p in spec["ports"] if p["name"] == "grpc")
                probe = spec["readinessProbe"]["grpc"]["service"]
                if not health(port, probe, time.monotonic() + 180):
                    failures.append(f"{name}: grpc health '{probe}' on :{port} never SERVING: {open(log.name).read()[-2000:]}")
                    raise StopIteration
                print(f"test-images: {name} ready on :{port}", flush=True)
        if "gateway" in WANTED:
            gateway = next(p["containerPort"] for p in deployments["gateway"]["spec"]["template"]["spec"]["containers"][0]["ports"] if p["name"] == "grpc")
            for service in [s for s in ["clip", "vision", "diffusion"] if s in WANTED]:
                full = {"clip": "multimodal.clip.v1.ClipService", "vision": "multimodal.vision.v1.VisionService",
                        "diffusion": "multimodal.diffusion.v1.DiffusionService"}[service]
                if not health(gateway, full, time.monotonic() + 30):
                    failures.append(f"gateway reports {full} not SERVING")
            # The dev overlay's key ("dev-key-change-me", k8s/overlays/dev) if its Secret holds that key's hash.
            key = os.environ.get("DEV_API_KEY", "dev-key-change-me")
            stored = "".join(base64.b64decode(v).decode() for s in secrets.values() for v in s.get("data", {}).values())
            if hashlib.sha256(key.encode()).hexdigest() not in stored:
                key = None
            calls = call_through(f"127.0.0.1:{gateway}", [s for s in WANTED if s != "gateway"], key)
            for line in calls:
                print(f"test-images: {line}", flush=True)
                if line.startswith("FAILED"):
                    failures.append(line)
        for label, container, before in roots:
            written = root_writes(before, rootfs(container))
            if written:
                failures.append(f"{label} wrote outside its volumes (read-only root in a cluster): {', '.join(written[:10])}")
            else:
                print(f"test-images: {label}: root file system untouched (readOnlyRootFilesystem holds)", flush=True)
    except StopIteration:
        pass
    finally:
        for name, process, _ in processes:
            os.killpg(process.pid, signal.SIGTERM)
        for name, process, _ in processes:
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
        for container in containers:
            subprocess.run(["buildah", "--storage-driver", STORAGE, "rm", container], capture_output=True)
        shutil.rmtree(work, ignore_errors=True)
    for failure in failures:
        print(f"test-images: FAILED: {failure}", file=sys.stderr)
    if not failures:
        print(f"test-images: passed: {' '.join(n for n in ORDER if n in WANTED)}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
