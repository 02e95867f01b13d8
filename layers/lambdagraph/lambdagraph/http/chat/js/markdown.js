// A small, safe markdown renderer: the text is HTML-escaped first, so model output can add
// only the few tags produced below (p, pre/code, strong, em, a to http(s), ul/li).

const ESCAPES = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

export function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (c) => ESCAPES[c]);
}

function inline(text) {
  return text
    .replace(/`([^`]+)`/g, "<code>$1</code>")
    .replace(/\*\*([^*]+)\*\*/g, "<strong>$1</strong>")
    .replace(/(^|[^*])\*([^*\s][^*]*)\*/g, "$1<em>$2</em>")
    .replace(/\[([^\]]+)\]\((https?:\/\/[^\s)]+)\)/g,
      '<a href="$2" rel="noopener noreferrer" target="_blank">$1</a>');
}

function block(chunk) {
  const lines = chunk.split("\n");
  if (lines.every((l) => /^\s*[-*] /.test(l))) {
    return "<ul>" + lines.map((l) => `<li>${inline(l.replace(/^\s*[-*] /, ""))}</li>`).join("") + "</ul>";
  }
  return `<p>${lines.map(inline).join("<br>")}</p>`;
}

/** Markdown text → HTML string safe to assign to innerHTML. */
export function renderMarkdown(text) {
  const parts = escapeHtml(text).split(/```[^\n]*\n?/);
  return parts.map((part, i) => {
    if (i % 2 === 1) return `<pre><code>${part}</code></pre>`;
    return part.split(/\n{2,}/).filter((c) => c.trim()).map(block).join("");
  }).join("");
}
