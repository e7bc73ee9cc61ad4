// The official `openai` npm package, unmodified apart from base URL and key, against the gateway's REST surface.
// Run by OpenAiNodeSdkTests.cs: env OPENAI_BASE_URL, OPENAI_API_KEY, IMAGE_PNG (a picture), INIT_PNG (64x64, for the
// edit), IMAGE_URL (an allow-listed http URL of a picture), SERVED_VISION (the vision model's served id).
// Prints one JSON line per case: {"case", "ok", "detail"}; exits 1 if any case failed.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import OpenAI, { toFile } from 'openai';

const env = (name) => process.env[name] ?? assert.fail(`${name} is not set`);
const client = new OpenAI({ baseURL: env('OPENAI_BASE_URL'), apiKey: env('OPENAI_API_KEY') });
const picture = 'data:image/png;base64,' + readFileSync(env('IMAGE_PNG')).toString('base64');
const pngSize = (b64) => { const b = Buffer.from(b64, 'base64'); assert.equal(b.subarray(1, 4).toString(), 'PNG'); return `${b.readUInt32BE(16)}x${b.readUInt32BE(20)}`; };
const question = (image) => [{ role: 'user', content: [{ type: 'text', text: 'What is in this picture?' }, { type: 'image_url', image_url: image }] }];

const cases = {
  async embeddings_both_encodings() {
    const input = ['a cat', 'a dog on a red sofa'];
    const decoded = await client.embeddings.create({ model: 'text-embedding-3-small', input });   // the SDK asks for base64
    const floats = await client.embeddings.create({ model: 'text-embedding-3-small', input, encoding_format: 'float' });
    assert.equal(decoded.data.length, 2);
    for (let i = 0; i < 2; i++) {
      assert.ok(decoded.data[i].embedding.length > 0);
      assert.deepEqual(Array.from(decoded.data[i].embedding), floats.data[i].embedding.map(Math.fround));
    }
    assert.ok(decoded.usage.prompt_tokens > 4);
    return `${decoded.data[0].embedding.length} dims, ${decoded.usage.prompt_tokens} tokens`;
  },
  async chat_image_object_form() {
    const r = await client.chat.completions.create({ model: 'gpt-4o', messages: question({ url: picture, detail: 'auto' }), max_tokens: 6, temperature: 0 });
    assert.ok(r.choices[0].message.content.length > 0);
    assert.equal(r.choices[0].finish_reason, 'length');
    assert.equal(r.usage.completion_tokens, 6);
    return r.choices[0].message.content;
  },
  async chat_image_string_form() {
    // The older shape: image_url as a plain string (here an allow-listed http URL the gateway fetches).
    const r = await client.chat.completions.create({ model: 'gpt-4-vision-preview', messages: question(env('IMAGE_URL')), max_tokens: 4, temperature: 0 });
    assert.ok(r.choices[0].message.content.length > 0);
    return r.choices[0].message.content;
  },
  async chat_stream_with_usage() {
    const body = { model: 'gpt-4o-mini', messages: question({ url: picture }), max_completion_tokens: 7, temperature: 0 };
    const unary = await client.chat.completions.create(body);
    const stream = await client.chat.completions.create({ ...body, stream: true, stream_options: { include_usage: true } });
    let text = '', usage = null, finish = null;
    for await (const chunk of stream) {
      for (const c of chunk.choices) { text += c.delta.content ?? ''; finish ??= c.finish_reason; }
      if (chunk.usage) usage = chunk.usage;
    }
    assert.equal(text, unary.choices[0].message.content);
    assert.equal(finish, 'length');
    assert.deepEqual(usage, unary.usage);
    return `${usage.prompt_tokens}+${usage.completion_tokens} tokens`;
  },
  async image_generation_b64_json() {
    const r = await client.images.generate({ model: 'dall-e-2', prompt: 'a red cube', size: '64x48', response_format: 'b64_json', steps: 4 });
    assert.equal(r.data.length, 1);
    assert.equal(pngSize(r.data[0].b64_json), '64x48');
    return 'png 64x48';
  },
  async image_stream_partial_images() {
    const stream = await client.images.generate({ model: 'gpt-image-1', prompt: 'a red cube', size: '64x64', stream: true, partial_images: 2, steps: 6 });
    const events = [];
    for await (const event of stream) events.push(event);
    const partials = events.filter((e) => e.type === 'image_generation.partial_image');
    const completed = events.filter((e) => e.type === 'image_generation.completed');
    assert.deepEqual(partials.map((e) => e.partial_image_index), [0, 1]);
    assert.ok(partials.every((e) => Buffer.from(e.b64_json, 'base64').length > 0));
    assert.equal(completed.length, 1);
    assert.equal(pngSize(completed[0].b64_json), '64x64');
    return `${partials.length} partials, then completed`;
  },
  async image_edit() {
    const image = await toFile(readFileSync(env('INIT_PNG')), 'init.png', { type: 'image/png' });
    const r = await client.images.edit({ model: 'gpt-image-1', image, prompt: 'a blue cube', steps: 4, strength: 0.5 });
    assert.equal(pngSize(r.data[0].b64_json), '64x64');
    return 'png 64x64';
  },
  async models_list() {
    const ids = [];
    for await (const model of client.models.list()) ids.push(model.id);
    for (const id of ['gpt-4o', 'text-embedding-3-small', 'dall-e-3', env('SERVED_VISION')]) assert.ok(ids.includes(id), `${id} in ${ids}`);
    const one = await client.models.retrieve('gpt-4o');
    assert.equal(one.id, 'gpt-4o');
    return ids.join(',');
  },
  async error_bad_key_401() {
    const wrong = new OpenAI({ baseURL: env('OPENAI_BASE_URL'), apiKey: 'not-the-key' });
    const e = await wrong.models.list().then(() => null, (e) => e);
    assert.ok(e instanceof OpenAI.AuthenticationError, String(e));
    assert.equal(e.status, 401);
    return e.message;
  },
  async error_bad_size_400_param() {
    const e = await client.images.generate({ model: 'dall-e-2', prompt: 'a red cube', size: '63x64' }).then(() => null, (e) => e);
    assert.ok(e instanceof OpenAI.BadRequestError, String(e));
    assert.equal(e.status, 400);
    assert.equal(e.param, 'size');
    return e.message;
  },
};

let failed = 0;
for (const [name, run] of Object.entries(cases)) {
  try {
    console.log(JSON.stringify({ case: name, ok: true, detail: String(await run()) }));
  } catch (e) {
    failed++;
    console.log(JSON.stringify({ case: name, ok: false, detail: String(e?.stack ?? e) }));
  }
}
process.exit(failed ? 1 : 0);
