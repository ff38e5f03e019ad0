/*! Till embed loader: puts the Till checkout in an iframe on Till's origin. The page never sees
 * card data: only state (ready, change, success, error) arrives here, by postMessage, and only
 * from that iframe. */
(function () {
  "use strict";
  var script = document.currentScript;
  var tillOrigin = new URL(script.src).origin;

  function mount(target, options) {
    var host = typeof target === "string" ? document.querySelector(target) : target;
    if (!host) throw new Error("Till.mount: no element matches " + target);
    options = options || {};
    if (!options.clientSecret || !options.publishableKey) {
      throw new Error("Till.mount: clientSecret and publishableKey are required");
    }
    var launch = new URLSearchParams({ secret: options.clientSecret, origin: location.origin });
    if (options.locale) launch.set("locale", options.locale);
    if (options.appearance) launch.set("appearance", JSON.stringify(options.appearance));
    if (options.customerSession) launch.set("customer_session", options.customerSession);

    var frame = document.createElement("iframe");
    frame.title = "Secure card payment";
    frame.setAttribute("allow", "payment");
    frame.style.cssText = "display:block;width:100%;height:420px;border:0;overflow:hidden";
    frame.src = tillOrigin + "/pay?key=" + encodeURIComponent(options.publishableKey) + "#" + launch;

    var handlers = {
      ready: options.onReady,
      change: options.onChange,
      success: options.onSuccess,
      error: options.onError
    };
    function onMessage(event) {
      if (event.origin !== tillOrigin || event.source !== frame.contentWindow) return;
      var message = event.data;
      if (!message || message.source !== "till") return;
      if (typeof message.height === "number") frame.style.height = Math.ceil(message.height) + "px";
      var handler = handlers[message.type];
      if (typeof handler === "function") handler(message.payload);
    }
    window.addEventListener("message", onMessage);
    host.appendChild(frame);
    return {
      unmount: function () {
        window.removeEventListener("message", onMessage);
        frame.remove();
      }
    };
  }

  window.Till = { mount: mount };
})();
