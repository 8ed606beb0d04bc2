// The main navigation: one button per screen, the current one marked for screen readers
// (aria-current), counts of running and attention jobs beside Activity.
import type { ScreenName } from '../../shared/ipc-contract.js';

export interface NavProps {
  screen: ScreenName;
  go(screen: ScreenName): void;
  running: number;
  attention: number;
  version: string | null;
}

const ITEMS: { screen: ScreenName; label: string; match: ScreenName[] }[] = [
  { screen: 'dataset', label: 'New dataset', match: ['dataset', 'investigation', 'sign-in'] },
  { screen: 'activity', label: 'Activity', match: ['activity'] },
  { screen: 'history', label: 'History', match: ['history'] },
  { screen: 'settings', label: 'Settings', match: ['settings'] },
  { screen: 'logs', label: 'Logs', match: ['logs'] },
];

export function Nav({ screen, go, running, attention, version }: NavProps) {
  return (
    <nav className="nav" aria-label="Main">
      <ul>
        {ITEMS.map((item) => (
          <li key={item.screen}>
            <button
              type="button"
              className="nav__item"
              aria-current={item.match.includes(screen) ? 'page' : undefined}
              onClick={() => go(item.screen)}
            >
              {item.label}
              {item.screen === 'activity' && running > 0 ? (
                <span className="nav__count" aria-label={`${running} running`}>
                  {running}
                </span>
              ) : null}
              {item.screen === 'activity' && attention > 0 ? (
                <span className="nav__count nav__count--attention" aria-label={`${attention} need attention`}>
                  {attention}
                </span>
              ) : null}
            </button>
          </li>
        ))}
      </ul>
      {version ? <p className="nav__version">Beamdrop {version}</p> : null}
    </nav>
  );
}
