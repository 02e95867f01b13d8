// HTTP calls to the lambdagraph API: protocol commands, threads, assistants, cancel.

export class ApiError extends Error {
  constructor(message, status = 0) { super(message); this.status = status; }
}

async function detailOf(response) {
  try {
    const body = await response.json();
    return typeof body.detail === "string" ? body.detail : JSON.stringify(body.detail ?? body);
  } catch {
    return `${response.status} ${response.statusText}`;
  }
}

export class Api {
  /** @param {() => string|null} token the bearer token to send, if any */
  constructor(token) { this.token = token; this.nextId = 1; }

  headers() {
    const headers = { "content-type": "application/json" };
    const token = this.token();
    if (token) headers.authorization = `Bearer ${token}`;
    return headers;
  }

  async request(method, path, body, signal) {
    let response;
    try {
      response = await fetch(path, {
        method, headers: this.headers(), signal,
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (error) {
      if (error.name === "AbortError") throw error;
      throw new ApiError("Cannot reach the server: check your connection.");
    }
    if (!response.ok) throw new ApiError(await detailOf(response), response.status);
    return response;
  }

  async json(method, path, body) {
    const text = await (await this.request(method, path, body)).text();
    return text ? JSON.parse(text) : null;
  }

  /** One Agent Streaming Protocol command; a protocol error becomes an ApiError. */
  async command(threadId, method, params) {
    const answer = await this.json("POST", `threads/${threadId}/commands`,
      { id: this.nextId++, method, params });
    if (answer.type === "error") throw new ApiError(answer.message || answer.error);
    return answer;
  }

  threads() {
    return this.json("POST", "threads/search",
      { limit: 30, sort_by: "updated_at", sort_order: "desc" });
  }
  thread(threadId) { return this.json("GET", `threads/${threadId}`); }
  deleteThread(threadId) { return this.request("DELETE", `threads/${threadId}`); }
  assistants() { return this.json("POST", "assistants/search", { limit: 50 }); }
  runs(threadId) { return this.json("GET", `threads/${threadId}/runs?limit=5`); }
  cancel(threadId, runId) {
    return this.request("POST", `threads/${threadId}/runs/${runId}/cancel?wait=false`);
  }
}
