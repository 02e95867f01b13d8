// Tool call cards and the approval card: small DOM builders with accessible buttons.

function element(tag, props = {}, ...children) {
  const node = Object.assign(document.createElement(tag), props);
  node.append(...children);
  return node;
}

export { element };

/** A tool call: name, arguments as they stream, running/done/error, its result. */
export class ToolCard {
  constructor(name) {
    this.args = "";
    this.title = element("h3", { textContent: name || "tool" });
    this.state = element("span", { className: "state", textContent: "calling" });
    this.argsEl = element("pre", { className: "args" });
    this.result = element("pre", { className: "result", hidden: true });
    this.el = element("div", { className: "card tool" }, this.state, this.title, this.argsEl, this.result);
    this.el.setAttribute("aria-label", `Tool call ${name || ""}`.trim());
    this.el.dataset.state = "calling";
  }
  setName(name) { if (name) this.title.textContent = name; }
  appendArgs(text) { this.args += text; this.argsEl.textContent = this.args; }
  setArgs(args) { this.args = JSON.stringify(args, null, 2); this.argsEl.textContent = this.args; }
  setState(state, result) {
    this.el.dataset.state = state;
    this.state.textContent = state;
    if (result !== undefined) { this.result.hidden = false; this.result.textContent = result; }
  }
}

/** An interrupt: the action and its arguments; Approve, Reject, and edit-then-approve. */
export class ApprovalCard {
  constructor(interruptId, payload, respond) {
    this.interruptId = interruptId;
    const value = payload && typeof payload === "object" ? payload : { value: payload };
    const action = typeof value.action === "string" ? value.action : "continue";
    const args = value.args && typeof value.args === "object" ? value.args : null;
    this.editor = element("textarea", { rows: 6, hidden: true });
    this.editor.setAttribute("aria-label", "Edit arguments");
    this.status = element("p", { className: "notice" });
    const approve = element("button", { type: "button", className: "approve", textContent: "Approve" });
    const reject = element("button", { type: "button", textContent: "Reject" });
    const buttons = [approve, reject];
    approve.onclick = () => {
      let response = { approved: true };
      if (!this.editor.hidden) {
        try { response = { approved: true, args: JSON.parse(this.editor.value) }; } catch {
          this.status.textContent = "The edited arguments are not valid JSON.";
          return;
        }
      }
      this.answer(respond, response, "Approved.");
    };
    reject.onclick = () => this.answer(respond, { approved: false }, "Rejected.");
    if (args) {
      const edit = element("button", { type: "button", textContent: "Edit" });
      edit.onclick = () => { this.editor.hidden = false; this.editor.value = JSON.stringify(args, null, 2); edit.disabled = true; };
      buttons.push(edit);
    }
    this.buttons = buttons;
    this.el = element("div", { className: "card approval" },
      element("h3", { textContent: `Approval needed: ${action}` }),
      element("pre", { textContent: JSON.stringify(args ?? value, null, 2) }),
      this.editor, element("div", { className: "actions" }, ...buttons), this.status);
    this.el.setAttribute("role", "group");
    this.el.setAttribute("aria-label", `Approve ${action}`);
  }
  async answer(respond, response, done) {
    this.buttons.forEach((b) => { b.disabled = true; });
    try {
      await respond(this.interruptId, response);
      this.settle(done);
    } catch (error) {
      this.status.textContent = error.message;
      this.buttons.forEach((b) => { b.disabled = false; });
    }
  }
  settle(text) {
    this.buttons.forEach((b) => b.remove());
    this.editor.hidden = true;
    this.status.textContent = text;
  }
}
