import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { Chat } from "./Chat.jsx";

// The server: `?apiUrl=` on the page's address, else VITE_LAMBDAGRAPH_URL at build time,
// else `make dev`'s default address. `?transport=websocket` streams over the WebSocket.
const query = new URLSearchParams(window.location.search);
const apiUrl = query.get("apiUrl") ?? import.meta.env.VITE_LAMBDAGRAPH_URL ?? "http://127.0.0.1:8000";
const transport = query.get("transport") === "websocket" ? "websocket" : "sse";
// With auth on (`lambdagraph dev --auth jwt` prints a token): `?token=` is sent as a bearer
// token on every request. A real app gets it from its sign-in instead.
const token = query.get("token");

createRoot(document.getElementById("root")).render(
  <StrictMode>
    <Chat apiUrl={apiUrl} assistantId="agent" transport={transport} token={token} />
  </StrictMode>,
);
