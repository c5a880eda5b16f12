// htm bound to Preact: `html\`<p>${text}</p>\`` builds elements; values are always text.
import { h } from './vendor/preact.mjs';
import htm from './vendor/htm.mjs';

export const html = htm.bind(h);
