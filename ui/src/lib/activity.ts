// Tells the console about keyboard and pointer activity, and asks it for the session state often
// enough to show the lock screen on time. The console decides when the idle time has run out.

export interface ActivityOptions {
  idleSeconds: number;
  onActivity: () => void;
  onPoll: () => void;
}

/** How often to report activity and to poll, from the idle time in force. */
export function intervals(idleSeconds: number): { touchMs: number; pollMs: number } {
  const idleMs = Math.max(1, idleSeconds) * 1000;
  return {
    touchMs: Math.min(15_000, Math.max(250, idleMs / 4)),
    pollMs: Math.min(5_000, Math.max(250, idleMs / 5)),
  };
}

const EVENTS = ["keydown", "pointerdown", "pointermove", "wheel"] as const;

/** Starts watching; returns a function that stops it. */
export function watchActivity(target: Window, opts: ActivityOptions): () => void {
  const { touchMs, pollMs } = intervals(opts.idleSeconds);
  let last = 0;
  const onEvent = () => {
    const now = Date.now();
    if (now - last >= touchMs) {
      last = now;
      opts.onActivity();
    }
  };
  for (const e of EVENTS) target.addEventListener(e, onEvent, { passive: true });
  const timer = target.setInterval(opts.onPoll, pollMs);
  return () => {
    for (const e of EVENTS) target.removeEventListener(e, onEvent);
    target.clearInterval(timer);
  };
}
