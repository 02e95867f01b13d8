// Sign-in: an OAuth 2.0 implicit flow against the configured authorize URL (the local
// issuer's login form, or Cognito's hosted UI), or a pasted token; none with auth "none".

const KEY = "lambdagraph.token";

export class Auth {
  constructor(config) { this.config = config; }

  get required() { return this.config.auth !== "none"; }
  token() { return sessionStorage.getItem(KEY); }
  forget() { sessionStorage.removeItem(KEY); }
  remember(token) { sessionStorage.setItem(KEY, token); }

  /** Take the token from a sign-in redirect (#access_token=…); returns the saved hash. */
  absorbRedirect() {
    const fragment = new URLSearchParams(location.hash.slice(1));
    const token = fragment.get("access_token");
    if (!token) return location.hash;
    this.remember(token);
    const expected = sessionStorage.getItem(`${KEY}.state`);
    const back = sessionStorage.getItem(`${KEY}.hash`) || "";
    sessionStorage.removeItem(`${KEY}.state`);
    if (expected && fragment.get("state") !== expected) { this.forget(); }
    history.replaceState(null, "", location.pathname + back);
    return back;
  }

  signIn() {
    const login = this.config.login;
    const state = crypto.getRandomValues(new Uint32Array(4)).join("-");
    sessionStorage.setItem(`${KEY}.state`, state);
    sessionStorage.setItem(`${KEY}.hash`, location.hash);
    const query = new URLSearchParams({
      response_type: "token", client_id: login.client_id, scope: "openid email",
      redirect_uri: location.origin + location.pathname, state,
    });
    location.assign(`${login.authorize_url}?${query}`);
  }

  /** The sign-in screen: a button to the login page, or a field for a bearer token. */
  render(container, onToken) {
    const box = document.createElement("form");
    box.className = "signin";
    if (this.config.login) {
      box.innerHTML = "<p>Sign in to chat.</p><button type=\"submit\">Sign in</button>";
      box.onsubmit = (event) => { event.preventDefault(); this.signIn(); };
    } else {
      box.innerHTML = `<p>This server checks tokens (${this.config.auth}): paste one.</p>
        <label>Token <input name="token" autocomplete="off"></label><button type="submit">Use token</button>`;
      box.onsubmit = (event) => {
        event.preventDefault();
        this.remember(box.elements.token.value.trim());
        onToken();
      };
    }
    container.replaceChildren(box);
  }
}
