// The renderer's entry, and the one place its services are wired: the ApiClient over
// window.beamdrop, the ActivityStore, and the error reporting to main's log.
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { ApiClient } from './api-client.js';
import { App } from './app/App.js';
import { ClientContext } from './app/client-context.js';
import { StoreContext } from './app/store-context.js';
import { ActivityStore } from './screens/activity/activity-store.js';

const client = new ApiClient(window.beamdrop);
const store = new ActivityStore(client);

// Uncaught errors go to the one log file in main, where support will look for them.
window.addEventListener('error', (e) => client.log('error', `renderer: ${e.message}`, { source: e.filename, line: e.lineno }));
window.addEventListener('unhandledrejection', (e) =>
  client.log('error', `renderer: unhandled rejection: ${String((e.reason as Error)?.message ?? e.reason)}`),
);
window.addEventListener('securitypolicyviolation', (e) =>
  client.log('error', `CSP violation: ${e.violatedDirective} ${e.blockedURI}`),
);

const root = document.getElementById('root');
if (!root) throw new Error('index.html has no #root');
createRoot(root).render(
  <StrictMode>
    <ClientContext.Provider value={client}>
      <StoreContext.Provider value={store}>
        <App />
      </StoreContext.Provider>
    </ClientContext.Provider>
  </StrictMode>,
);
