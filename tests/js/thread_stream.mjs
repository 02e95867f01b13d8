// One approval flow through the official JS client's thread stream (@langchain/langgraph-sdk):
// start a run on the demo agent, read its message tokens as they stream, answer the
// interrupt with input.respond, await the final state. Prints one JSON line of what it saw,
// for tests/e2e/agent/test_js_client.py to assert on.
//
// usage: node thread_stream.mjs URL ASSISTANT_ID MESSAGE
import { Client } from "@langchain/langgraph-sdk";

const [url, assistantId, message] = process.argv.slice(2);
const client = new Client({ apiUrl: url });
const thread = client.threads.stream({ assistantId, transport: "sse" });

const seen = { methods: new Set(), text: "" };
thread.onEvent((event) => {
  seen.methods.add(event.method);
  const data = event.params?.data ?? {};
  if (event.method === "messages" && data.event === "content-block-delta") {
    seen.text += data.delta?.text ?? "";
  }
});

await thread.run.start({ input: { messages: [{ role: "user", content: message }] } });
// A subscription to the channel the projections below do not read, so onEvent sees it. Not
// awaited before reading values: `thread.output` settles on the interrupted state unless the
// respond below comes in the same tick as the values snapshot that follows the interrupt, and
// that needs the loop below already waiting when it arrives (a fast server reaches the
// interrupt before the subscription's stream is open).
const extra = thread.subscribe(["messages"]);
for await (const _ of thread.values) {
  if (thread.interrupted) break;
}
const interrupts = thread.interrupts.map((i) => i.payload);
for (const pending of thread.interrupts) {
  await thread.input.respond({
    namespace: pending.namespace,
    interrupt_id: pending.interruptId,
    response: { approved: true },
  });
}
const output = await thread.output;
await (await extra).unsubscribe();
await thread.close();
// A message as LangChain serializes it (`{lc, kwargs}`) or as a plain dict: its type and text.
const plain = (message) => message.kwargs ?? message;
const textOf = (content) =>
  typeof content === "string" ? content : content.map((block) => block.text ?? "").join("");
console.log(
  JSON.stringify({
    threadId: thread.threadId,
    methods: [...seen.methods].sort(),
    text: seen.text,
    interrupts,
    messages: output.messages.map(plain).map((m) => ({ type: m.type, text: textOf(m.content) })),
  }),
);
