// "Zero-shot": POST /v1/x/classify (our extension → ClipService.Classify; OpenAI has no such endpoint) and one bar per
// label, best first.
import { postJson } from './api.js';
import { dropZone } from './drop.js';

const $ = (id) => document.getElementById(id);

export function initClassify() {
  let image = null;
  dropZone($('classify-drop'), $('classify-file'), (file, dataUrl) => {
    image = dataUrl;
    $('classify-thumb').src = dataUrl;
    $('classify-thumb').hidden = false;
  });

  $('classify-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    if (!image) return status('error', 'Drop an image first.');
    const labels = $('classify-labels').value.split('\n').map((l) => l.trim()).filter(Boolean);
    const body = { image, labels };
    if ($('classify-template').value) body.template = $('classify-template').value;
    $('classify-run').disabled = true;
    status('running', 'Classifying…');
    try {
      const result = await (await postJson('/v1/x/classify', body)).json();
      const sorted = [...result.data].sort((a, b) => b.probability - a.probability);
      $('classify-bars').replaceChildren(...sorted.map(bar));
      status('done', `Best: ${sorted[0].label}.`);
    } catch (error) {
      status('error', error.message);
    } finally {
      $('classify-run').disabled = false;
    }
  });
}

function bar({ label, probability }) {
  const li = document.createElement('li');
  li.dataset.label = label;
  li.dataset.probability = String(probability);
  const name = document.createElement('span');
  name.textContent = label;
  const fill = document.createElement('div');
  fill.className = 'bar';
  fill.style.width = `${(probability * 100).toFixed(1)}%`;
  const value = document.createElement('span');
  value.className = 'value';
  value.textContent = `${(probability * 100).toFixed(1)}%`;
  li.append(name, fill, value);
  return li;
}

function status(state, text) {
  const line = $('classify-status');
  line.dataset.state = state;
  line.textContent = text;
  line.classList.toggle('error', state === 'error');
}
