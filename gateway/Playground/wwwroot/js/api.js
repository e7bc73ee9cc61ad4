// Calls to this gateway's REST API (/v1/...). The API key lives in this module's memory only: typed into the page,
// sent as 'authorization: Bearer <key>', never written to storage, cookies or the URL.
let apiKey = '';

export function setApiKey(key) { apiKey = key.trim(); }

function headers(extra = {}) {
  return apiKey ? { ...extra, authorization: `Bearer ${apiKey}` } : extra;
}

/** An OpenAI-shaped error ({"error": {"message", "param", "code"}}) as one readable line. */
export class ApiError extends Error {
  constructor(status, error) {
    const where = error?.param ? ` (${error.param})` : '';
    super(`${status} ${error?.code ?? error?.type ?? 'error'}${where}: ${error?.message ?? 'request failed'}`);
    this.status = status;
  }
}

async function check(response) {
  if (response.ok) return response;
  let body = null;
  try { body = await response.json(); } catch { /* not JSON: the status says enough */ }
  throw new ApiError(response.status, body?.error ?? { message: response.statusText });
}

export async function postJson(path, body, signal) {
  return check(await fetch(path, {
    method: 'POST', headers: headers({ 'content-type': 'application/json' }), body: JSON.stringify(body), signal,
  }));
}

export async function postForm(path, form, signal) {
  return check(await fetch(path, { method: 'POST', headers: headers(), body: form, signal }));
}

/**
 * Server-sent events from a fetch response, parsed by hand: EventSource cannot POST or send headers.
 * Yields { event, data } per event; data is JSON-parsed unless it is the literal [DONE].
 */
export async function* serverSentEvents(response) {
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value.replace(/\r\n?/g, '\n');
    let end;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let event = 'message';
      const data = [];
      for (const line of block.split('\n')) {
        if (line.startsWith('event:')) event = line.slice(6).trim();
        else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
      }
      if (data.length === 0) continue;
      const text = data.join('\n');
      yield { event, data: text === '[DONE]' ? text : JSON.parse(text) };
    }
  }
}
