// Latchkey's channel page (Chromium; docs/design.md "The fast channel"). A frame's relay loads it
// in a hidden <iframe> for a moment and posts it `{type: "channel-bind", token}` with one end of a
// MessageChannel; it hands both to the service worker, which binds the port to the relay's runtime
// port that asked for the token. It trusts nothing: a wrong token is refused by the worker.
"use strict";
addEventListener("message", (event) => {
  const data = event.data;
  if (event.source !== parent || event.ports.length !== 1) return;
  if (!data || typeof data !== "object" || data.type !== "channel-bind" || typeof data.token !== "string") return;
  const port = event.ports[0];
  navigator.serviceWorker.ready.then(
    (registration) => {
      if (registration.active) registration.active.postMessage({ type: "channel-bind", token: data.token }, [port]);
      else port.close();
    },
    () => port.close(),
  );
});
