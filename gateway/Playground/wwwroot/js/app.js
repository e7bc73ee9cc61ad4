// The playground's entry point: tabs, the API key field, and one module per tab.
import { setApiKey } from './api.js';
import { initGenerate } from './generate.js';
import { initAsk } from './ask.js';
import { initClassify } from './classify.js';

const tabs = [...document.querySelectorAll('[role="tab"]')];
for (const tab of tabs) {
  tab.addEventListener('click', () => {
    for (const other of tabs) {
      const selected = other === tab;
      other.setAttribute('aria-selected', String(selected));
      document.getElementById(other.getAttribute('aria-controls')).hidden = !selected;
    }
  });
}

const key = document.getElementById('api-key');
key.addEventListener('input', () => setApiKey(key.value));
setApiKey(key.value);

initGenerate();
initAsk();
initClassify();
