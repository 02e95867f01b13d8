// The page's wiring: config, sign-in, assistants, the thread list, the composer, Stop.

import { Api, ApiError } from "./api.js";
import { Auth } from "./auth.js";
import { ThreadSession } from "./session.js";
import { Usage } from "./usage.js";
import { ThreadView } from "./view.js";

const $ = (id) => document.getElementById(id);
const ui = {
  log: $("log"), errors: $("errors"), connection: $("connection"), usage: $("usage"),
  message: $("message"), send: $("send"), stop: $("stop"), threads: $("threads"),
  assistant: $("assistant"), newThread: $("new-thread"), sidebar: $("sidebar"), account: $("account"),
};
const transport = { websocketUrl: "" };
let api, auth, session, view;

function showError(message) {
  const line = document.createElement("p");
  line.textContent = message;
  ui.errors.append(line);
  if (ui.errors.children.length > 3) ui.errors.firstChild.remove();
}

function refresh(state) {
  if (state) {
    // A run just ended: the thread list shows its new title and order.
    if (state === "idle" && ui.connection.dataset.state !== "idle" && api) loadThreads().catch(handleError);
    ui.connection.dataset.state = state;
    ui.connection.textContent = state;
  }
  const busy = Boolean(view?.running);
  ui.stop.hidden = !busy;
  ui.send.disabled = busy;
}

function newId() {
  return crypto.randomUUID ? crypto.randomUUID()
    : "10000000-1000-4000-8000-100000000000".replace(/[018]/g, (c) =>
      (c ^ (crypto.getRandomValues(new Uint8Array(1))[0] & (15 >> (c / 4)))).toString(16));
}

function currentThread() {
  const match = /thread=([0-9a-f-]{36})/.exec(location.hash);
  return match ? match[1] : null;
}

function openThread(threadId) {
  session?.close();
  ui.errors.replaceChildren();
  if (location.hash !== `#thread=${threadId}`) history.replaceState(null, "", `#thread=${threadId}`);
  view = new ThreadView(ui.log, new Usage(ui.usage), (id, response) =>
    session.run("input.respond", { interrupt_id: id, namespace: [], response }));
  session = new ThreadSession({
    api, threadId, view, websocketUrl: transport.websocketUrl, token: () => auth.token(),
    status: refresh, error: handleError,
  });
  session.start();
  refresh("connecting");
  markCurrent();
}

function handleError(error) {
  const message = typeof error === "string" ? error : error.message;
  if (error instanceof ApiError && error.status === 401 && auth.required) {
    auth.forget();
    auth.render(ui.log, () => location.reload());
  }
  showError(message);
}

function title(thread) {
  const first = thread.values?.messages?.find((m) => m.type === "human");
  const text = typeof first?.content === "string" ? first.content : "";
  return text || `Thread ${thread.thread_id.slice(0, 8)}`;
}

function markCurrent() {
  for (const li of ui.threads.children) li.setAttribute("aria-current", String(li.dataset.id === session?.threadId));
}

async function loadThreads() {
  const threads = await api.threads();
  ui.threads.replaceChildren(...threads.map((thread) => {
    const li = document.createElement("li");
    li.dataset.id = thread.thread_id;
    const open = Object.assign(document.createElement("button"), { className: "open", type: "button", textContent: title(thread) });
    open.onclick = () => { ui.sidebar.classList.remove("open"); openThread(thread.thread_id); };
    const remove = Object.assign(document.createElement("button"), { type: "button", textContent: "✕" });
    remove.setAttribute("aria-label", `Delete thread ${title(thread)}`);
    remove.onclick = async () => {
      await api.deleteThread(thread.thread_id).catch(handleError);
      if (session?.threadId === thread.thread_id) openThread(newId());
      loadThreads().catch(handleError);
    };
    li.append(open, remove);
    return li;
  }));
  markCurrent();
}

async function loadAssistants() {
  const assistants = await api.assistants();
  ui.assistant.replaceChildren(...assistants.map((a) =>
    Object.assign(document.createElement("option"), { value: a.assistant_id, textContent: a.name || a.graph_id })));
  const agent = assistants.find((a) => a.graph_id === "agent");
  if (agent) ui.assistant.value = agent.assistant_id;
}

async function send(event) {
  event.preventDefault();
  const content = ui.message.value.trim();
  if (!content || view.running) return;
  if (view.pending) { showError("Answer the approval above first (Approve or Reject)."); return; }
  ui.errors.replaceChildren();
  ui.send.disabled = true;
  try {
    await session.run("run.start", {
      assistant_id: ui.assistant.value || "agent",
      input: { messages: [{ role: "user", content }] },
    });
    ui.message.value = "";
    loadThreads().catch(handleError);
  } catch (error) {
    handleError(error);
  } finally {
    refresh();
  }
}

async function stop() {
  ui.stop.disabled = true;
  try {
    if (!(await session.cancel())) showError("No run to stop.");
  } catch (error) {
    handleError(error);
  } finally {
    ui.stop.disabled = false;
  }
}

function websocketToggle(url) {
  const label = document.createElement("label");
  const box = Object.assign(document.createElement("input"), { type: "checkbox" });
  box.checked = localStorage.getItem("lambdagraph.ws") === "1";
  transport.websocketUrl = box.checked ? url : "";
  box.onchange = () => {
    localStorage.setItem("lambdagraph.ws", box.checked ? "1" : "0");
    transport.websocketUrl = box.checked ? url : "";
    if (session) openThread(session.threadId);
  };
  label.append(box, " WebSocket");
  ui.account.append(label);
}

async function main() {
  window.addEventListener("unhandledrejection", (e) => showError(String(e.reason?.message || e.reason)));
  const config = await fetch("chat/config").then((r) => r.json());
  auth = new Auth(config);
  auth.absorbRedirect();
  if (auth.required && !auth.token()) { auth.render(ui.log, () => location.reload()); return; }
  api = new Api(() => auth.token());
  if (config.websocket_url) websocketToggle(config.websocket_url);
  if (auth.required) {
    const out = Object.assign(document.createElement("button"), { type: "button", textContent: "Sign out" });
    out.onclick = () => { auth.forget(); location.reload(); };
    ui.account.append(out);
  }
  ui.message.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); ui.send.click(); }
  });
  $("composer").addEventListener("submit", send);
  ui.stop.onclick = stop;
  ui.newThread.onclick = () => { ui.sidebar.classList.remove("open"); openThread(newId()); ui.message.focus(); };
  $("menu").onclick = () => ui.sidebar.classList.toggle("open");
  window.addEventListener("hashchange", () => {
    const tid = currentThread();
    if (tid && tid !== session?.threadId) openThread(tid);
  });
  openThread(currentThread() || newId());
  await Promise.all([loadAssistants(), loadThreads()]).catch(handleError);
}

main().catch((error) => showError(`The page could not start: ${error.message}`));
