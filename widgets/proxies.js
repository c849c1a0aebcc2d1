// Proxy badge: where the scrub proxies of the timeline's media stand ("proxy 40%", "proxy ready", "proxy failed:
// why"), on the transport bar. The kernel sends {"type": "proxies", state, text} when that changes.
// Plain script (no import/export): nbedit joins the widget's files into one ES module.

function mountProxies(root, bus) {
  const badge = h("span", "nbe-proxy", "", "Scrub proxies: all-intra copies the preview reads for fast seeks");
  badge.style.display = "none";
  const place = () => {
    const bar = root.querySelector(".nbe-transport");
    if (bar && badge.parentElement !== bar) bar.appendChild(badge);
  };
  bus.on("proxies", (msg) => {
    place();
    badge.textContent = msg.text || "";
    badge.dataset.state = msg.state || "";
    badge.style.display = msg.text ? "" : "none";
  });
  place();
}
