// Passkey ceremonies of the operator console (no inline script: the pages pass their
// endpoints in data- attributes). The server verifies everything (py_webauthn); this only
// converts between the JSON options/answers and the browser's WebAuthn API.
"use strict";
(function () {
  function toBytes(b64url) {
    const b64 = b64url.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((b64url.length + 3) % 4);
    return Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  }
  function toB64url(buffer) {
    let s = "";
    new Uint8Array(buffer).forEach((b) => { s += String.fromCharCode(b); });
    return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }
  function descriptors(list) {
    return (list || []).map((d) => Object.assign({}, d, { id: toBytes(d.id) }));
  }
  function creationOptions(o) {
    return Object.assign({}, o, {
      challenge: toBytes(o.challenge),
      user: Object.assign({}, o.user, { id: toBytes(o.user.id) }),
      excludeCredentials: descriptors(o.excludeCredentials),
    });
  }
  function requestOptions(o) {
    return Object.assign({}, o, { challenge: toBytes(o.challenge), allowCredentials: descriptors(o.allowCredentials) });
  }
  function credentialJSON(c) {
    const r = c.response;
    const response = { clientDataJSON: toB64url(r.clientDataJSON) };
    if (r.attestationObject) {
      response.attestationObject = toB64url(r.attestationObject);
      response.transports = r.getTransports ? r.getTransports() : [];
    } else {
      response.authenticatorData = toB64url(r.authenticatorData);
      response.signature = toB64url(r.signature);
      if (r.userHandle) response.userHandle = toB64url(r.userHandle);
    }
    return { id: c.id, rawId: toB64url(c.rawId), type: c.type, response: response,
             authenticatorAttachment: c.authenticatorAttachment || undefined, clientExtensionResults: {} };
  }
  async function post(url, body, csrf) {
    const response = await fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify(body),
    });
    const data = await response.json().catch(() => ({}));
    if (!response.ok) {
      const message = response.status === 429 ? "Too many attempts: wait a minute and try again."
        : (typeof data.detail === "string" ? data.detail : "The passkey could not be used.");
      throw new Error(message);
    }
    return data;
  }
  async function ceremony(form) {
    const d = form.dataset;
    const extra = d.token ? { token: d.token } : {};
    const options = await post(d.begin, extra, d.csrf);
    let credential;
    if (d.ceremony === "register") {
      credential = await navigator.credentials.create({ publicKey: creationOptions(options) });
      const name = form.querySelector("[name=name]");
      extra.name = name ? name.value : "";
    } else {
      credential = await navigator.credentials.get({ publicKey: requestOptions(options) });
      extra.next = d.next || "";
    }
    const result = await post(d.complete, Object.assign({ credential: credentialJSON(credential) }, extra), d.csrf);
    window.location.assign(result.redirect);
  }
  document.addEventListener("DOMContentLoaded", function () {
    const form = document.getElementById("passkey-form");
    if (!form) return;
    const error = form.querySelector(".passkey-error");
    const button = form.querySelector(".passkey-button");
    if (!window.PublicKeyCredential) {
      error.textContent = "This browser cannot use passkeys (WebAuthn). Use a current browser on http://localhost or HTTPS.";
      error.hidden = false;
      button.disabled = true;
      return;
    }
    form.addEventListener("submit", async function (event) {
      event.preventDefault();
      error.hidden = true;
      button.disabled = true;
      try {
        await ceremony(form);
      } catch (e) {
        error.textContent = e.name === "NotAllowedError" ? "The passkey prompt was cancelled or timed out. Try again." : e.message;
        error.hidden = false;
        button.disabled = false;
      }
    });
  });
})();
