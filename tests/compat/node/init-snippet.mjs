// Prints, as a JSON string, the inline snippet @openpanel/web exports for pages that load the
// op1.js script tag (it defines the `window.op` queue that op1.js replays on load).
import { getInitSnippet } from "@openpanel/web";

console.log(JSON.stringify(getInitSnippet()));
