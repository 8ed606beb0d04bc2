// The heading of a screen. It takes focus when the screen opens, so keyboard and screen-reader
// users land at the top of the new content instead of on the button they pressed.
import { useEffect, useRef, type ReactNode } from 'react';

export function ScreenHeader({ title, children }: { title: string; children?: ReactNode }) {
  const ref = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    ref.current?.focus({ preventScroll: true });
  }, [title]);
  return (
    <header className="screen-header">
      <h1 ref={ref} tabIndex={-1}>
        {title}
      </h1>
      {children ? <div className="screen-header__actions">{children}</div> : null}
    </header>
  );
}
