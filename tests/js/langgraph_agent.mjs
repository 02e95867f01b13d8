// @ag-ui/langgraph's LangGraphAgent (CopilotKit's LangGraph path) against lambdagraph's
// LangGraph API, unchanged: it drives assistants, threads and runs through the JS SDK. One
// approval flow (tool call, interrupt, resume); prints one JSON line of what it saw, for
// tests/e2e/test_agui.py to assert on.
//
// usage: node langgraph_agent.mjs URL GRAPH_ID TOKEN MESSAGE
import { LangGraphAgent } from "@ag-ui/langgraph";

const [url, graphId, token, message] = process.argv.slice(2);
const agent = new LangGraphAgent({
  deploymentUrl: url,
  graphId,
  propertyHeaders: { Authorization: `Bearer ${token}` },
  emitInterruptOutcome: true,
});
agent.messages = [{ id: crypto.randomUUID(), role: "user", content: message }];

function recorder() {
  const seen = { types: [], text: "", outcome: null, error: null, toolCalls: [], results: [] };
  const subscriber = {
    onEvent({ event }) {
      seen.types.push(event.type);
      if (event.type === "RUN_FINISHED") seen.outcome = event.outcome ?? null;
      if (event.type === "RUN_ERROR") seen.error = event.message;
      if (event.type === "TOOL_CALL_START") seen.toolCalls.push(event.toolCallName);
      if (event.type === "TOOL_CALL_RESULT") seen.results.push(event.content);
    },
    onTextMessageContentEvent({ event }) {
      seen.text += event.delta;
    },
  };
  return { seen, subscriber };
}

const out = { threadId: agent.threadId, runs: [] };
const first = recorder();
await agent.runAgent({}, first.subscriber);
out.runs.push(first.seen);
const interrupt = first.seen.outcome?.interrupts?.[0];
if (interrupt) {
  const second = recorder();
  try {
    await agent.runAgent(
      { resume: [{ interruptId: interrupt.id, status: "resolved", payload: { approved: true } }] },
      second.subscriber,
    );
  } catch (err) {
    second.seen.thrown = String(err?.status ?? "") + " " + String(err?.text ?? err?.message ?? err);
  }
  out.runs.push(second.seen);
}
out.messages = agent.messages.map((m) => ({ role: m.role, content: m.content ?? null }));
console.log(JSON.stringify(out));
