import { useStream } from "@langchain/react";
import { useMemo, useState } from "react";

/** The text of a message's content: a string, or the text blocks of a block list. */
function textOf(content) {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  return content
    .map((block) => (typeof block === "string" ? block : block?.type === "text" ? block.text : ""))
    .join("");
}

/** A chat with one assistant over `useStream`: messages as they stream, an approval card. */
export function Chat({ apiUrl, assistantId, transport, token }) {
  // One object for the component's life: useStream starts over when its options change.
  const defaultHeaders = useMemo(
    () => (token ? { Authorization: `Bearer ${token}` } : undefined),
    [token],
  );
  const stream = useStream({ apiUrl, assistantId, transport, defaultHeaders });
  const [draft, setDraft] = useState("");

  function send(event) {
    event.preventDefault();
    const text = draft.trim();
    if (!text) return;
    setDraft("");
    void stream.submit({ messages: [{ type: "human", content: text }] });
  }

  return (
    <main>
      <h1>lambdagraph · useStream</h1>
      <p>
        Server <code>{apiUrl}</code> over {transport === "websocket" ? "WebSocket" : "SSE"},
        assistant <code>{assistantId}</code>
        {stream.threadId && (
          <>
            , thread <code data-testid="thread-id">{stream.threadId}</code>
          </>
        )}
      </p>
      <ol aria-label="Conversation">
        {stream.messages.map((message, i) => (
          <li key={message.id ?? i} data-type={message.type}>
            <strong>{message.type}</strong>: {textOf(message.content)}
            {message.tool_calls?.map((call) => (
              <code key={call.id}> → {call.name}({JSON.stringify(call.args)})</code>
            ))}
          </li>
        ))}
      </ol>
      {stream.interrupt && <Approval stream={stream} />}
      {stream.error != null && <p role="alert">Error: {String(stream.error)}</p>}
      <form onSubmit={send}>
        <input
          aria-label="Message"
          value={draft}
          onChange={(event) => setDraft(event.target.value)}
          placeholder="What is the weather in Paris?"
        />
        <button type="submit" disabled={stream.isLoading}>
          Send
        </button>
        <button type="button" disabled={!stream.isLoading} onClick={() => void stream.stop()}>
          Stop
        </button>
      </form>
      <p aria-live="polite">{stream.isLoading ? "Running…" : "Idle"}</p>
    </main>
  );
}

/** The pending interrupt (the demo agent's `send_email` asks for approval) with its answers. */
function Approval({ stream }) {
  const { action, args } = stream.interrupt.value ?? {};
  return (
    <section role="dialog" aria-label="Approval">
      <p>
        The agent wants to run <code>{action}</code> with <code>{JSON.stringify(args)}</code>
      </p>
      <button onClick={() => void stream.respond({ approved: true })}>Approve</button>
      <button onClick={() => void stream.respond({ approved: false })}>Reject</button>
    </section>
  );
}
