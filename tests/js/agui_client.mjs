// The official AG-UI client (@ag-ui/client's HttpAgent) against POST /ag-ui/{assistant_id}.
// Prints one JSON line of what it saw, for tests/e2e/test_agui.py to assert on.
//
// usage: node agui_client.mjs URL ASSISTANT_ID TOKEN approval|cancel|error MESSAGE
import { HttpAgent } from "@ag-ui/client";

const [url, assistantId, token, scenario, message] = process.argv.slice(2);
const agent = new HttpAgent({
  url: `${url}/ag-ui/${assistantId}`,
  headers: { Authorization: `Bearer ${token}` },
});
agent.messages = [{ id: crypto.randomUUID(), role: "user", content: message }];

function recorder(onText) {
  const seen = { types: [], text: "", finished: null, error: null, runId: null, toolCalls: [], results: [] };
  const subscriber = {
    onEvent({ event }) {
      seen.types.push(event.type);
      if (event.type === "RUN_STARTED") seen.runId = event.metadata?.lambdagraph_run_id ?? null;
      if (event.type === "RUN_FINISHED") seen.finished = { outcome: event.outcome ?? null, usage: event.usage ?? null };
      if (event.type === "RUN_ERROR") seen.error = { message: event.message, code: event.code ?? null };
      if (event.type === "TOOL_CALL_START") seen.toolCalls.push({ id: event.toolCallId, name: event.toolCallName });
      if (event.type === "TOOL_CALL_RESULT") seen.results.push({ toolCallId: event.toolCallId, content: event.content });
    },
    onTextMessageContentEvent({ event }) {
      seen.text += event.delta;
      onText?.(seen);
    },
  };
  return { seen, subscriber };
}

const out = { threadId: agent.threadId, runs: [] };
if (scenario === "approval") {
  const first = recorder();
  await agent.runAgent({}, first.subscriber);
  out.runs.push(first.seen);
  const interrupt = first.seen.finished.outcome.interrupts[0];
  const second = recorder();
  await agent.runAgent(
    { resume: [{ interruptId: interrupt.id, status: "resolved", payload: { approved: true } }] },
    second.subscriber,
  );
  out.runs.push(second.seen);
} else if (scenario === "cancel") {
  let aborted = false;
  const run = recorder((seen) => {
    if (!aborted && seen.text.length > 0) {
      aborted = true;
      agent.abortRun();
    }
  });
  try {
    await agent.runAgent({}, run.subscriber);
  } catch (err) {
    run.seen.aborted = String(err?.name ?? err);
  }
  out.runs.push(run.seen);
} else {
  const run = recorder();
  try {
    await agent.runAgent({}, run.subscriber);
  } catch (err) {
    run.seen.thrown = String(err?.message ?? err);
  }
  out.runs.push(run.seen);
}
out.messages = agent.messages.map((m) => ({ role: m.role, content: m.content ?? null, toolCalls: (m.toolCalls ?? []).length }));
console.log(JSON.stringify(out));
