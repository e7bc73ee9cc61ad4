// MultiModal.Services from Node.js: node client.mjs [address] [out-dir] [image] (after npm install).
// @grpc/grpc-js + @grpc/proto-loader on the project's protos; protobufjs decodes the AIP-193 error details.
// MULTIMODAL_API_KEY, when set, is sent as `authorization: Bearer <key>`.
import grpc from "@grpc/grpc-js";
import loader from "@grpc/proto-loader";
import protobuf from "protobufjs";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const [address = process.env.MULTIMODAL_ADDRESS || "127.0.0.1:8080", outDir = "out", imagePath = "../red-circle.png"] =
  process.argv.slice(2);
const metadata = new grpc.Metadata();
if (process.env.MULTIMODAL_API_KEY) metadata.set("authorization", `Bearer ${process.env.MULTIMODAL_API_KEY}`);

const protos = ["clip", "vision", "diffusion"].map(s => `multimodal/${s}/v1/${s}_service.proto`);
const def = loader.loadSync(protos, { includeDirs: [path.join(here, "../../protos")], longs: Number, enums: String, defaults: true, oneofs: true });
const { clip, vision, diffusion } = grpc.loadPackageDefinition(def).multimodal;
const creds = grpc.credentials.createInsecure();
const clips = new clip.v1.ClipService(address, creds);
const visions = new vision.v1.VisionService(address, creds);
const diffusions = new diffusion.v1.DiffusionService(address, creds);
const unary = (client, method, request) =>
  new Promise((resolve, reject) => client[method](request, metadata, (err, res) => (err ? reject(err) : resolve(res))));

// google.rpc.Status and its details (ErrorInfo, BadRequest), from the grpc-status-details-bin trailer.
const rpc = new protobuf.Root();
rpc.resolvePath = (_, target) => path.join(here, "../protos", target);
rpc.loadSync(["google/rpc/status.proto", "google/rpc/error_details.proto"], { keepCase: true });
function printError(err) {
  console.log(`${grpc.status[err.code]}: ${err.details}`);
  const [bin] = err.metadata?.get("grpc-status-details-bin") ?? [];
  if (!bin) return;
  for (const any of rpc.lookupType("google.rpc.Status").decode(bin).details) {
    const name = any.type_url.split("/").pop();
    const detail = rpc.lookupType(name).decode(any.value);
    if (name === "google.rpc.ErrorInfo") console.log(`  ErrorInfo reason=${detail.reason} domain=${detail.domain}`);
    if (name === "google.rpc.BadRequest")
      for (const v of detail.field_violations) console.log(`  BadRequest field=${v.field}: ${v.description}`);
  }
}

async function main() {
  // 1. Text embeddings.
  let res = await unary(clips, "EmbedTexts", { texts: ["a red circle", "a blue square"], normalize: true });
  const first = res.embeddings[0].values.slice(0, 3).map(x => x.toFixed(4)).join(", ");
  console.log(`EmbedTexts: ${res.embeddings.length} embeddings, ${res.embeddings[0].values.length} dims, first values [${first}]`);

  // 2. Zero-shot classification of an image file.
  const image = { data: fs.readFileSync(imagePath) };
  res = await unary(clips, "Classify", { image, labels: ["red circle", "blue square", "cat"], template: "a photo of a {}" });
  const top = res.scores.reduce((a, b) => (b.probability > a.probability ? b : a));
  console.log(`Classify: top label "${top.label}" p=${top.probability.toFixed(4)} of ${res.scores.length} labels`);

  // 3. Streamed description: print each delta as it arrives.
  process.stdout.write("DescribeStream: ");
  for await (const msg of visions.DescribeStream({ images: [image], prompt: "What is in this picture?", maxTokens: 12, temperature: 0 }, metadata)) {
    process.stdout.write(msg.delta);
    if (msg.finishReason !== "FINISH_REASON_UNSPECIFIED")
      console.log(`\nDescribeStream: finish ${msg.finishReason.replace("FINISH_REASON_", "")}, ${msg.usage.completionTokens} completion tokens`);
  }

  // 4. Image generation, streamed: progress, previews (JPEG) and the final PNG.
  fs.mkdirSync(outDir, { recursive: true });
  const request = { prompt: "a red circle", steps: 4, seed: 42, preview: { everyNSteps: 2 } };
  for await (const e of diffusions.GenerateImage(request, metadata)) {
    if (e.event === "queued") console.log(`GenerateImage: queued at position ${e.queued.position}`);
    if (e.event === "progress") {
      let line = `GenerateImage: step ${e.progress.step}/${e.progress.totalSteps}`;
      (e.progress.preview?.images ?? []).forEach((img, i) => {
        const file = path.join(outDir, `preview-step${e.progress.step}-${i}.jpg`);
        fs.writeFileSync(file, img.data);
        line += `, preview ${file}`;
      });
      console.log(line);
    }
    if (e.event === "result")
      e.result.images.forEach((img, i) => {
        const file = path.join(outDir, `image-seed${e.result.seeds[i]}.png`);
        fs.writeFileSync(file, img.data);
        console.log(`GenerateImage: saved ${file} (${img.width}x${img.height}, ${e.result.stepsRun} steps)`);
      });
  }

  // 5. An error: no texts. INVALID_ARGUMENT with ErrorInfo + BadRequest (AIP-193).
  try {
    await unary(clips, "EmbedTexts", { texts: [] });
    console.log("Error case: unexpectedly succeeded");
    return 1;
  } catch (err) {
    process.stdout.write("Error case: ");
    printError(err);
  }
  return 0;
}

main().then(code => process.exit(code), err => {
  process.stdout.write("\nFailed: ");
  if (err.code === undefined) console.log(err); else printError(err);
  process.exit(1);
});
