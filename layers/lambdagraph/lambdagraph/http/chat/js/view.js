// The conversation as a fold over the thread's frames (root namespace): each frame is
// applied once, in seq order, so a replay from seq 0 rebuilds exactly what a live view shows.

import { ApprovalCard, ToolCard, element } from "./cards.js";
import { renderMarkdown } from "./markdown.js";

const TERMINAL = new Set(["completed", "failed", "interrupted"]);

function textOf(content) {
  if (typeof content === "string") return content;
  if (Array.isArray(content)) return content.map((b) => (typeof b === "string" ? b : b?.text || "")).join("");
  return "";
}

export class ThreadView {
  constructor(log, usage, respond) {
    this.log = log; this.usage = usage;
    this.respond = async (id, response) => { await respond(id, response); this.pending = null; };
    this.reset();
  }

  reset() {
    this.log.replaceChildren();
    this.usage.reset();
    this.humans = new Set(); this.messages = new Map(); this.tools = new Map();
    this.current = null; this.pending = null; this.running = false; this.stopping = false;
  }

  /** Apply one event frame; returns true when the thread may have gone idle. */
  apply(frame) {
    const { method, params } = frame;
    const data = params.data && typeof params.data === "object" ? params.data : {};
    if ((params.namespace || []).length) return false;  // subgraph and tool-internal detail
    if (method === "values") this.addHumans(data.messages);
    else if (method === "messages") this.message(data);
    else if (method === "tools") this.tool(data);
    else if (method === "input.requested") this.approval(data);
    else if (method === "custom" && data.name === "lambdagraph.usage") this.usage.server(data.payload);
    else if (method === "lifecycle") return this.lifecycle(data);
    return false;
  }

  add(node) {
    const stick = this.log.scrollHeight - this.log.scrollTop - this.log.clientHeight < 40;
    this.log.append(node);
    if (stick) this.log.scrollTop = this.log.scrollHeight;
    return node;
  }

  notice(text, bad = false) {
    return this.add(element("p", { className: bad ? "notice bad" : "notice", textContent: text }));
  }

  addHumans(messages) {
    if (!Array.isArray(messages)) return;
    for (const m of messages) {
      if (m?.type !== "human" || this.humans.has(m.id)) continue;
      this.humans.add(m.id);
      this.add(element("div", { className: "msg user", textContent: textOf(m.content) }));
    }
  }

  message(data) {
    if (data.event === "message-start") {
      if (data.role && data.role !== "ai") { this.current = null; return; }
      this.current = { blocks: new Map() };
      return;
    }
    const current = this.current;
    if (!current) return;
    if (data.event === "message-finish") { this.usage.addCall(data.usage); this.current = null; return; }
    const content = data.content || {};
    if (data.event === "content-block-start") current.blocks.set(data.index, this.startBlock(content));
    const block = current.blocks.get(data.index);
    if (!block) return;
    if (data.event === "content-block-delta") {
      const delta = data.delta || {};
      if (delta.type === "text-delta" && block.text !== undefined) this.setText(block, block.text + (delta.text || ""));
      if (delta.type === "tool-call-delta" && block.card) block.card.appendArgs(delta.args || "");
    } else if (data.event === "content-block-finish") {
      if (content.type === "text" && block.text !== undefined) this.setText(block, content.text || "");
      if (content.type === "tool_call" && block.card) { block.card.setName(content.name); block.card.setArgs(content.args); }
    }
  }

  startBlock(content) {
    if (content.type === "tool_call_chunk" || content.type === "tool_call") {
      const card = new ToolCard(content.name);
      if (content.id) this.tools.set(content.id, card);
      this.add(card.el);
      return { card };
    }
    if (content.type !== "text") return null;
    const block = { text: "", el: this.add(element("div", { className: "msg ai" })) };
    this.setText(block, content.text || "");
    return block;
  }

  setText(block, text) { block.text = text; block.el.innerHTML = renderMarkdown(text); }

  tool(data) {
    let card = this.tools.get(data.tool_call_id);
    if (!card) {
      card = new ToolCard(data.tool_name);
      this.tools.set(data.tool_call_id, card);
      this.add(card.el);
    }
    if (data.event === "tool-started") card.setState("running");
    else if (data.event === "tool-finished") {
      const out = data.output;
      card.setState("done", typeof out === "string" ? out : textOf(out?.content) || JSON.stringify(out));
    } else if (data.event === "tool-error") card.setState("error", data.message || "failed");
  }

  approval(data) {
    this.pending = new ApprovalCard(data.interrupt_id, data.payload, this.respond);
    this.add(this.pending.el);
  }

  lifecycle(data) {
    if (data.event === "running") {
      if (this.pending) { this.pending.settle("Answered."); this.pending = null; }
      if (!this.running) this.usage.startRun();
      this.running = true;
      return false;
    }
    if (!TERMINAL.has(data.event)) return false;
    this.running = false;
    if (data.event === "failed") this.notice(`The run failed${data.error ? `: ${data.error}` : "."}`, true);
    if (data.event === "interrupted" && !this.pending) this.notice("Stopped.");
    return true;
  }
}
