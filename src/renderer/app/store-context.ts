// The ActivityStore lives as long as the window (jobs keep updating while another screen shows),
// so it is created once in main.tsx and shared through this context.
import { createContext, useContext, useSyncExternalStore } from 'react';
import type { ActivitySnapshot, ActivityStore } from '../screens/activity/activity-store.js';

export const StoreContext = createContext<ActivityStore | null>(null);

export function useActivityStore(): ActivityStore {
  const s = useContext(StoreContext);
  if (!s) throw new Error('StoreContext is missing.');
  return s;
}

export function useActivity(): ActivitySnapshot {
  const store = useActivityStore();
  return useSyncExternalStore(store.subscribe, store.getSnapshot);
}
