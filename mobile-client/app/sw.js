// The app's service worker (scope /app/): the app shell is precached at install under a
// versioned cache and served cache-first, so the app starts with no network. The API is
// never intercepted: offline, its calls fail and the outbox keeps the records.

const VERSION = '__MINQING_APP_VERSION__';
const CACHE = 'minqing-app-' + VERSION;
const PREFIX = 'minqing-app-';

const SHELL = [
  './',
  'style.css',
  'app.js',
  'pages.js',
  'sessions.js',
  'worklog.js',
  'api.js',
  'store.js',
  'outbox.js',
  'photo.js',
  'labels.js',
  'util.js',
  'ui.js',
  'manifest.webmanifest',
  'icon.svg',
  'icon-192.png',
  'icon-512.png',
];

self.addEventListener('install', (event) => {
  event.waitUntil(
    caches.open(CACHE)
      .then((cache) => cache.addAll(SHELL.map((path) => new Request(path, { cache: 'reload' }))))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(keys.filter((k) => k.indexOf(PREFIX) === 0 && k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener('fetch', (event) => {
  const request = event.request;
  if (request.method !== 'GET') return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (url.pathname.indexOf('/api/') === 0) return; // the API goes to the network, always
  const scope = new URL(self.registration.scope).pathname; // "/app/"
  if (url.pathname.indexOf(scope) !== 0) return;
  // Every page of the app is the one shell ('./' = index.html); other files by their path.
  const isPage = request.mode === 'navigate' || url.pathname === scope || url.pathname === scope + 'index.html';
  const key = isPage ? new URL('./', self.registration.scope).href : url.origin + url.pathname;
  event.respondWith(
    caches.open(CACHE).then((cache) => cache.match(key).then((hit) => {
      if (hit) return hit;
      return fetch(request).then((response) => {
        if (response.ok && !isPage && response.type === 'basic') cache.put(key, response.clone());
        return response;
      });
    })),
  );
});
