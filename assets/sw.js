// quantlab's service worker: after the first visit every file of the site is in the Cache
// Storage, so the whole app — every chapter, its data and the math font — keeps working when the
// network goes away (a seminar room's Wi-Fi). Network first, cache as the fallback: a reachable
// server always wins, so a new deployment is picked up on the next load.
const CACHE = "quantlab-v1";
// quantlabKernels(): which of the app's two builds (SIMD128, relaxed SIMD) this browser runs.
importScripts("./assets/kernels.js");

async function precache() {
  const cache = await caches.open(CACHE);
  const page = await fetch("./", { cache: "no-cache" });
  const html = await page.clone().text();
  await cache.put("./", page);
  // The hashed JS/wasm/CSS names change with every build; read them from the page itself.
  // Of the two builds, only the one this browser runs (the other is ~0.9 MB gzip, never used).
  const relaxed = quantlabKernels("").build === "relaxed";
  const built = [...html.matchAll(/["'](\.\/[^"']+\.(?:js|wasm|css))["']/g)]
    .map((m) => m[1])
    .filter((f) => !/^\.\/quantlab-web-/.test(f) || f.startsWith("./quantlab-web-relaxed-") === relaxed);
  const list = await (await fetch("./assets/offline.json", { cache: "no-cache" })).json();
  await cache.addAll([...new Set([...built, ...list.files])]);
}

self.addEventListener("install", (event) => {
  event.waitUntil(precache().then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener("fetch", (event) => {
  const req = event.request;
  if (req.method !== "GET" || new URL(req.url).origin !== self.location.origin) return;
  event.respondWith(
    fetch(req)
      .then((res) => {
        if (res.ok) {
          const copy = res.clone();
          caches.open(CACHE).then((c) => c.put(req.mode === "navigate" ? "./" : req, copy));
        }
        return res;
      })
      .catch(async () => {
        const cache = await caches.open(CACHE);
        const hit = await cache.match(req.mode === "navigate" ? "./" : req, { ignoreSearch: true });
        return hit || Response.error();
      }),
  );
});
