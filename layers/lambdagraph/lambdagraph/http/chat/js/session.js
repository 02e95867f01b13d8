// One open thread: its event stream (one per run, closed once the thread is idle), the
// reattach after a drop (from the last seq seen, so every event shows once), and commands.

import { openSse, openWebSocket } from "./stream.js";

const RETRY_MS = [250, 1000, 2000, 5000, 10000];

export class ThreadSession {
  constructor({ api, threadId, view, status, error, websocketUrl, token }) {
    Object.assign(this, { api, threadId, view, status, error, websocketUrl, token });
    this.lastSeq = 0; this.stream = null; this.closed = false; this.retries = 0;
    this.idleAt = null; this.runId = null;
  }

  /** Show the thread from its first frame, and follow it while it is busy. */
  async start() {
    try {
      await this.api.thread(this.threadId);
    } catch (error) {
      if (error.status === 404) this.status("idle");  // a new thread: its first run.start creates it
      else this.error(error);
      return;
    }
    this.open();
  }

  open() {
    if (this.stream || this.closed) return;
    this.status(this.retries ? "reconnecting" : "connecting");
    const handlers = {
      frame: (frame) => this.onFrame(frame),
      malformed: (text) => this.error(`The server sent an event the page could not read: ${String(text).slice(0, 120)}`),
      end: (error) => this.onEnd(error),
    };
    this.stream = this.websocketUrl
      ? openWebSocket(this.websocketUrl, this.token(), this.threadId, this.lastSeq, handlers)
      : openSse(this.api, this.threadId, this.lastSeq, handlers);
    this.checkIdle();
  }

  onFrame(frame) {
    if (frame.seq <= this.lastSeq) return;  // a replay overlapping what we have
    this.lastSeq = frame.seq;
    this.retries = 0;
    let mayBeIdle = false;
    try {
      mayBeIdle = this.view.apply(frame);
    } catch (error) {
      this.error(`Could not show an event (${frame.method}): ${error.message}`);
    }
    this.status("live");
    if (mayBeIdle) this.checkIdle();
    else if (this.idleAt !== null && this.lastSeq >= this.idleAt) this.stop("idle");
  }

  /** Close the stream once the thread is idle and every frame up to the log's head is here. */
  async checkIdle(attempt = 0) {
    try {
      const [answer, thread] = await Promise.all([
        this.api.command(this.threadId, "state.get", {}), this.api.thread(this.threadId),
      ]);
      if (thread.status === "busy") {
        this.idleAt = null;
        // The thread's status follows its last frame by a moment: look again shortly.
        if (attempt < 4 && this.stream) setTimeout(() => this.checkIdle(attempt + 1), 250 * (attempt + 1));
        return;
      }
      this.idleAt = answer.meta?.applied_through_seq ?? 0;
      if (this.lastSeq >= this.idleAt) this.stop("idle");
    } catch (error) {
      if (error.status !== 404) this.error(error);  // 404: not created yet
    }
  }

  stop(state) {
    if (this.stream) { const s = this.stream; this.stream = null; s.close(); }
    this.idleAt = null;
    this.status(state);
  }

  onEnd(error) {
    if (!this.stream) return;
    this.stream = null;
    if (error && error.status && error.status < 500 && error.status !== 429) {
      this.error(error);
      this.status("offline");
      return;
    }
    // A drop, or the server ending an idle stream: come back from the last seq we have.
    const wait = error ? RETRY_MS[Math.min(this.retries++, RETRY_MS.length - 1)] : 0;
    this.status(error ? "reconnecting" : "connecting");
    setTimeout(() => this.open(), wait);
  }

  /** Send a command that starts or resumes a run, then follow its frames. */
  async run(method, params) {
    this.idleAt = null;
    const answer = await this.api.command(this.threadId, method, params);
    if (answer.result?.run_id) this.runId = answer.result.run_id;
    this.open();
    return answer;
  }

  /** Cancel the thread's active run on the server. */
  async cancel() {
    let runId = this.runId;
    const runs = await this.api.runs(this.threadId);
    const active = (runs || []).find((r) => r.status === "running" || r.status === "pending");
    if (active) runId = active.run_id;
    if (!runId) return false;
    await this.api.cancel(this.threadId, runId);
    return true;
  }

  close() { this.closed = true; this.stop("idle"); }
}
