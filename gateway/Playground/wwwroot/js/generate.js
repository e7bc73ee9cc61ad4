// "Generate": text-to-image (/v1/images/generations) or img2img (/v1/images/edits) with stream + partial_images, so
// previews arrive as SSE while the job runs; our "progress" extension adds queue position, step and ETA events.
// Cancel aborts the fetch: the gateway cancels the gRPC call and the diffusion service stops the job.
import { postForm, postJson, serverSentEvents } from './api.js';
import { dropZone } from './drop.js';

const $ = (id) => document.getElementById(id);
const PARTIAL_IMAGES = 3;   // OpenAI's maximum

export function initGenerate() {
  let init = null;          // { file, dataUrl } for img2img
  let controller = null;

  dropZone($('gen-drop'), $('gen-init'), (file, dataUrl) => {
    init = { file };
    $('gen-init-thumb').src = dataUrl;
    $('gen-init-row').hidden = false;
  });
  $('gen-init-clear').addEventListener('click', () => {
    init = null;
    $('gen-init').value = '';
    $('gen-init-row').hidden = true;
  });
  $('gen-cancel').addEventListener('click', () => controller?.abort());

  $('generate-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    controller = new AbortController();
    const params = readParams(init);
    setRunning(true);
    status('running', 'Sending…');
    $('gen-progress').value = 0;
    $('gen-preview').removeAttribute('src');
    $('gen-result').removeAttribute('src');
    $('gen-params').replaceChildren();
    const started = performance.now();
    try {
      const response = init
        ? await postForm('/v1/images/edits', toForm(params, init.file), controller.signal)
        : await postJson('/v1/images/generations', params, controller.signal);
      let previews = 0;
      for await (const { data } of serverSentEvents(response)) {
        switch (data.type) {
          case 'x.image_generation.queued':
            status('queued', data.position === 0 ? 'Starting…'
              : `Queued: ${data.position} ahead${data.estimated_wait_seconds != null ? `, about ${seconds(data.estimated_wait_seconds)} wait` : ''}`);
            break;
          case 'x.image_generation.progress':
            $('gen-progress').max = data.total_steps;
            $('gen-progress').value = data.step;
            status('running', `Step ${data.step}/${data.total_steps}${data.eta_seconds != null ? ` · ETA ${seconds(data.eta_seconds)}` : ''}`);
            break;
          case 'image_generation.partial_image':
            previews++;
            $('gen-preview').src = `data:image/${data.output_format};base64,${data.b64_json}`;
            break;
          case 'image_generation.completed':
            $('gen-result').src = `data:image/${data.output_format};base64,${data.b64_json}`;
            $('gen-progress').value = $('gen-progress').max;
            showParams(params, data, previews, performance.now() - started);
            status('done', `Done in ${seconds((performance.now() - started) / 1000)}.`);
            break;
          case 'error':
            throw new Error(`${data.error?.code ?? 'error'}: ${data.error?.message}`);
        }
      }
    } catch (error) {
      if (controller.signal.aborted) status('cancelled', 'Cancelled: the server stops the job.');
      else status('error', error.message);
    } finally {
      setRunning(false);
      controller = null;
    }
  });
}

function readParams(init) {
  const params = { prompt: $('gen-prompt').value, stream: true, partial_images: PARTIAL_IMAGES, progress: true };
  const optional = { negative_prompt: $('gen-negative').value, size: $('gen-size').value, scheduler: $('gen-scheduler').value };
  for (const [name, value] of Object.entries(optional)) if (value) params[name] = value;
  if ($('gen-steps').value) params.steps = Number($('gen-steps').value);
  if ($('gen-seed').value) params.seed = Number($('gen-seed').value);
  if (init) params.strength = Number($('gen-strength').value);
  return params;
}

function toForm(params, file) {
  const form = new FormData();
  for (const [name, value] of Object.entries(params)) form.append(name, String(value));
  form.append('image', file, file.name || 'image.png');
  return form;
}

function showParams(params, completed, previews, ms) {
  const rows = {
    prompt: params.prompt, 'negative prompt': params.negative_prompt, size: completed.size, steps: params.steps,
    seed: completed.seed ?? params.seed, scheduler: params.scheduler || 'model default', strength: params.strength,
    previews, time: seconds(ms / 1000),
  };
  const list = $('gen-params');
  for (const [name, value] of Object.entries(rows)) {
    if (value === undefined || value === '') continue;
    const dt = document.createElement('dt');
    dt.textContent = name;
    const dd = document.createElement('dd');
    dd.textContent = String(value);
    dd.dataset.param = name;
    list.append(dt, dd);
  }
}

function setRunning(running) {
  $('gen-run').disabled = running;
  $('gen-cancel').disabled = !running;
}

function status(state, text) {
  const line = $('gen-status');
  line.dataset.state = state;
  line.textContent = text;
  line.classList.toggle('error', state === 'error');
}

const seconds = (s) => `${s < 10 ? s.toFixed(1) : Math.round(s)} s`;
