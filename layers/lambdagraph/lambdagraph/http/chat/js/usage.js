// Token usage and cost for the current run and the whole thread.

const EMPTY = () => ({ input_tokens: 0, output_tokens: 0, total_tokens: 0, cost_usd: null });

function add(sum, usage) {
  for (const key of ["input_tokens", "output_tokens", "total_tokens"]) {
    sum[key] += Number(usage?.[key]) || 0;
  }
}

export class Usage {
  constructor(el) { this.el = el; this.thread = EMPTY(); this.run = EMPTY(); this.base = EMPTY(); }
  reset() { this.thread = EMPTY(); this.run = EMPTY(); this.base = EMPTY(); this.fromServer = false; this.render(); }
  /** A new run starts: the thread keeps its totals. */
  startRun() { this.base = { ...this.thread }; this.run = EMPTY(); this.render(); }
  /** A model call's usage (message-finish). */
  addCall(usage) {
    if (this.fromServer) return;  // the server's own totals (below) already count this call
    add(this.run, usage); add(this.thread, usage); this.render();
  }
  /** A `lambdagraph.usage` custom frame: the server's totals, with cost when priced. */
  server(payload) {
    if (!payload || typeof payload !== "object") return;
    this.fromServer = true;
    if (payload.total) this.run = { ...EMPTY(), ...payload.total };
    if (payload.thread) this.thread = { ...EMPTY(), ...payload.thread };
    else if (payload.total) {
      this.thread = { ...this.base };
      add(this.thread, payload.total);
      if (payload.total.cost_usd != null) {
        this.thread.cost_usd = (this.base.cost_usd || 0) + Number(payload.total.cost_usd);
      }
    }
    this.render();
  }
  render() {
    const part = (label, u) => {
      const cost = u.cost_usd == null ? "" : ` · $${Number(u.cost_usd).toFixed(4)}`;
      return `${label} ${u.total_tokens} tokens${cost}`;
    };
    this.el.textContent = this.thread.total_tokens || this.thread.cost_usd
      ? `${part("Run", this.run)} | ${part("Thread", this.thread)}` : "";
  }
}
