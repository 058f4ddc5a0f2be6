// Why Chromium could not open the app window, in one line for `npm start` (it otherwise only said "exited (1)").

/** A reason that can be known before starting Chromium, or null (Linux without an X11 or Wayland display). */
export function displayProblem(env = process.env, platform = process.platform) {
  if (platform !== 'linux') return null;
  if (env.DISPLAY || env.WAYLAND_DISPLAY) return null;
  return 'no display to open a window on (DISPLAY and WAYLAND_DISPLAY are unset, e.g. an SSH session or a container)';
}

/**
 * Chromium's own explanation from its stderr: the last ERROR/FATAL line (without its `[pid:tid:time:ERROR:file(line)]`
 * preamble), or the last non-empty line; null when it printed nothing.
 */
export function chromiumExitReason(stderr) {
  const lines = String(stderr ?? '')
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter(Boolean);
  if (lines.length === 0) return null;
  const strip = (l) => l.replace(/^\[[^\]]*(?:ERROR|FATAL)[^\]]*\]\s*/, '').slice(0, 300);
  // a line naming the cause beats the generic "The platform failed to initialize. Exiting." that follows it
  const cause = lines.filter((l) => /Missing X server|cannot open display|Authorization required|Running as root|No space left|Permission denied/i.test(l));
  const serious = lines.filter((l) => /(?:ERROR|FATAL)[:\]]/.test(l));
  return strip((cause.length ? cause : serious.length ? serious : lines).at(-1)).replace(/[.\s]+$/, '');
}
