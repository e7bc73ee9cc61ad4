// "Ask about an image": /v1/chat/completions with the image as a data: URL and stream: true; the answer grows as the
// chunks' delta.content arrive.
import { postJson, serverSentEvents } from './api.js';
import { dropZone } from './drop.js';

const $ = (id) => document.getElementById(id);

export function initAsk() {
  let image = null;
  let controller = null;
  dropZone($('ask-drop'), $('ask-file'), (file, dataUrl) => {
    image = dataUrl;
    $('ask-thumb').src = dataUrl;
    $('ask-thumb').hidden = false;
  });
  $('ask-stop').addEventListener('click', () => controller?.abort());

  $('ask-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    if (!image) return status('error', 'Drop an image first.');
    controller = new AbortController();
    $('ask-run').disabled = true;
    $('ask-stop').disabled = false;
    const answer = $('ask-answer');
    answer.textContent = '';
    status('running', 'Thinking…');
    try {
      const response = await postJson('/v1/chat/completions', {
        model: 'gpt-4o',   // an alias of the vision service's model (Gateway:ModelAliases)
        stream: true,
        max_tokens: Number($('ask-max-tokens').value),
        temperature: Number($('ask-temperature').value),
        messages: [{ role: 'user', content: [
          { type: 'text', text: $('ask-question').value },
          { type: 'image_url', image_url: { url: image } },
        ] }],
      }, controller.signal);
      let finish = null;
      for await (const { data } of serverSentEvents(response)) {
        if (data === '[DONE]') break;
        if (data.error) throw new Error(`${data.error.code ?? 'error'}: ${data.error.message}`);
        const choice = data.choices?.[0];
        if (choice?.delta?.content) answer.textContent += choice.delta.content;
        if (choice?.finish_reason) finish = choice.finish_reason;
      }
      status('done', `Done${finish ? ` (${finish})` : ''}.`);
    } catch (error) {
      status(controller.signal.aborted ? 'cancelled' : 'error', controller.signal.aborted ? 'Stopped.' : error.message);
    } finally {
      $('ask-run').disabled = false;
      $('ask-stop').disabled = true;
      controller = null;
    }
  });
}

function status(state, text) {
  const line = $('ask-status');
  line.dataset.state = state;
  line.textContent = text;
  line.classList.toggle('error', state === 'error');
}
