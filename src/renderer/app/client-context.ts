// The ApiClient for every screen, handed down once by main.tsx (no global lookups in screens,
// so a screen can be rendered with another client).
import { createContext, useContext } from 'react';
import type { ApiClient } from '../api-client.js';

export const ClientContext = createContext<ApiClient | null>(null);

export function useClient(): ApiClient {
  const c = useContext(ClientContext);
  if (!c) throw new Error('ClientContext is missing: render screens inside <ClientContext.Provider>.');
  return c;
}
