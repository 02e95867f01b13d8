// The thread's event stream over SSE (POST .../stream/events) or the WebSocket transport.
// Both call handlers.frame(frame) per event, handlers.malformed(text) for an event the page
// cannot read, and handlers.end(error|null) once, when the stream ends for any reason.

export const CHANNELS = ["values", "messages", "tools", "lifecycle", "input", "custom"];

function parseBlock(block) {
  const data = block.split(/\r?\n/).filter((l) => l.startsWith("data:"))
    .map((l) => l.slice(5).replace(/^ /, "")).join("\n");
  return data || null;  // comments (heartbeats) carry no data
}

/** Open the SSE stream of `threadId` from after `since`; returns {close()}. */
export function openSse(api, threadId, since, handlers) {
  const controller = new AbortController();
  let ended = false;
  const end = (error) => { if (!ended) { ended = true; handlers.end(error); } };
  (async () => {
    const response = await api.request("POST", `threads/${threadId}/stream/events`,
      { channels: CHANNELS, since }, controller.signal);
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value;
      const blocks = buffer.split(/\r?\n\r?\n/);
      buffer = blocks.pop();
      for (const block of blocks) deliver(parseBlock(block), handlers);
    }
    end(null);
  })().catch((error) => end(controller.signal.aborted ? null : error));
  return { close() { ended = true; controller.abort(); } };
}

function deliver(data, handlers) {
  if (data === null) return;
  let frame;
  try {
    frame = JSON.parse(data);
  } catch {
    handlers.malformed(data);
    return;
  }
  if (frame && frame.type === "event" && Number.isInteger(frame.seq) && frame.params) {
    handlers.frame(frame);
  } else if (frame && frame.type === "error") {
    handlers.malformed(frame.message || frame.error || data);
  } else if (!(frame && frame.type === "success")) {
    handlers.malformed(data);
  }
}

/** Open the thread's WebSocket stream (API Gateway style: ?thread_id=&token=). */
export function openWebSocket(url, token, threadId, since, handlers) {
  const query = new URLSearchParams({ thread_id: threadId });
  if (token) query.set("token", token);
  const socket = new WebSocket(`${url}?${query}`);
  let ended = false;
  const end = (error) => { if (!ended) { ended = true; handlers.end(error); } };
  socket.onopen = () => socket.send(JSON.stringify({
    id: 1, method: "subscription.subscribe", params: { channels: CHANNELS, since },
  }));
  socket.onmessage = (message) => deliver(String(message.data), handlers);
  socket.onerror = () => end(new Error("WebSocket error"));
  socket.onclose = (event) => end(event.code === 1000 ? null : new Error(`WebSocket closed (${event.code})`));
  return { close() { ended = true; socket.close(1000); } };
}
