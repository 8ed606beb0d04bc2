// The window: top bar (status, catalogue session), navigation, and the current screen. Holds the
// little state screens share: the session, the chosen investigation, the job to show in Activity.
import { useCallback, useEffect, useState } from 'react';
import type { AppInfo, InvestigationView, SessionView } from '../../shared/app-model.js';
import { appStatusOf } from '../../shared/app-status.js';
import type { ErrorInfo } from '../../shared/errors.js';
import type { ScreenName } from '../../shared/ipc-contract.js';
import { errorInfoOf } from '../api-client.js';
import { ErrorBanner } from '../components/ErrorBanner.js';
import { ActivityScreen } from '../screens/activity/ActivityScreen.js';
import { DatasetScreen } from '../screens/dataset/DatasetScreen.js';
import { HistoryScreen } from '../screens/history/HistoryScreen.js';
import { LogsScreen } from '../screens/logs/LogsScreen.js';
import { InvestigationScreen } from '../screens/session/InvestigationScreen.js';
import { SignInScreen } from '../screens/session/SignInScreen.js';
import { SettingsScreen } from '../screens/settings/SettingsScreen.js';
import { useClient } from './client-context.js';
import { Nav } from './Nav.js';
import { useActivity, useActivityStore } from './store-context.js';

export function App() {
  const client = useClient();
  const store = useActivityStore();
  const activity = useActivity();
  const [session, setSession] = useState<SessionView | null>(null);
  const [info, setInfo] = useState<AppInfo | null>(null);
  const [screen, setScreen] = useState<ScreenName>('sign-in');
  const [investigation, setInvestigation] = useState<InvestigationView | null>(null);
  const [error, setError] = useState<ErrorInfo | null>(null);

  useEffect(() => {
    store.start();
    Promise.all([client.call('session.get', undefined), client.call('app.info', undefined)])
      .then(([s, i]) => {
        setSession(s);
        setInfo(i);
        setScreen(s.state === 'signed-out' ? 'sign-in' : 'investigation');
      })
      .catch((e: unknown) => setError(errorInfoOf(e)));
    const offSession = client.on('session.changed', setSession);
    const offNavigate = client.on('app.navigate', ({ screen: s, jobId }) => {
      if (jobId !== undefined) store.select(jobId);
      setScreen(s);
    });
    return () => {
      offSession();
      offNavigate();
    };
  }, [client, store]);

  const go = useCallback(
    (s: ScreenName) => {
      if (s === 'dataset' && session?.state === 'signed-out') setScreen('sign-in');
      else if (s === 'dataset' && !investigation) setScreen('investigation');
      else setScreen(s);
    },
    [session, investigation],
  );

  const signOut = async () => {
    try {
      setSession(await client.call('session.signOut', undefined));
      setInvestigation(null);
      setScreen('sign-in');
    } catch (e) {
      setError(errorInfoOf(e));
    }
  };

  const status = appStatusOf(activity.jobs, Date.now());
  const running = activity.jobs.filter((j) => j.running).length;
  const attention = activity.jobs.filter((j) => j.attention).length;

  return (
    <div className="app">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <span className="topbar__brand">Beamdrop</span>
        <span className={`status-pill status-pill--${status}`} role="status" aria-live="polite">
          {status === 'idle' ? 'Idle' : status === 'uploading' ? `Uploading (${running})` : 'Needs attention'}
        </span>
        <span className="topbar__spacer" />
        {session ? (
          <span className="topbar__session">
            {session.state === 'signed-in'
              ? `Signed in as ${session.user ?? '?'} · ${session.catalogue.name}`
              : session.state === 'local'
                ? 'Local catalogue'
                : 'Not signed in'}
            {session.state !== 'signed-out' ? (
              <button type="button" className="button button--quiet" onClick={() => void signOut()}>
                {session.state === 'local' ? 'Change' : 'Sign out'}
              </button>
            ) : null}
          </span>
        ) : null}
      </header>
      <Nav screen={screen} go={go} running={running} attention={attention} version={info?.version ?? null} />
      <main id="main" className="main" tabIndex={-1}>
        <ErrorBanner error={error} onDismiss={() => setError(null)} />
        {screen === 'sign-in' && session ? (
          <SignInScreen
            session={session}
            onDone={(s) => {
              setSession(s);
              setScreen('investigation');
            }}
          />
        ) : null}
        {screen === 'investigation' && session ? (
          <InvestigationScreen
            session={session}
            onPick={(i) => {
              setInvestigation(i);
              setScreen('dataset');
            }}
          />
        ) : null}
        {screen === 'dataset' && investigation ? (
          <DatasetScreen
            investigation={investigation}
            onChangeInvestigation={() => setScreen('investigation')}
            onStarted={(jobId) => {
              store.select(jobId);
              setScreen('activity');
            }}
          />
        ) : null}
        {screen === 'activity' ? <ActivityScreen /> : null}
        {screen === 'history' ? <HistoryScreen /> : null}
        {screen === 'settings' ? <SettingsScreen /> : null}
        {screen === 'logs' ? <LogsScreen /> : null}
      </main>
    </div>
  );
}
