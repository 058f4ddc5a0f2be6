import { describe, expect, it } from 'vitest';
// @ts-expect-error -- a plain .mjs helper of the start script, without type declarations
import { chromiumExitReason, displayProblem } from './chromiumExit.mjs';

describe('chromiumExitReason', () => {
  it("gives Chromium's own reason without its log preamble", () => {
    const stderr = [
      '[1234:1234:1206/074512.123456:ERROR:ozone_platform_x11.cc(240)] Missing X server or $DISPLAY',
      '[1234:1234:1206/074512.123500:ERROR:env.cc(257)] The platform failed to initialize.  Exiting.',
      '',
    ].join('\n');
    expect(chromiumExitReason(stderr)).toBe('Missing X server or $DISPLAY');
    expect(chromiumExitReason('[1:1:ERROR:gpu.cc(9)] GPU process isn\'t usable. Goodbye.\n')).toBe("GPU process isn't usable. Goodbye");
    expect(chromiumExitReason('[0:0:ERROR:x.cc(1)] Missing X server or $DISPLAY\n')).toBe('Missing X server or $DISPLAY');
    expect(chromiumExitReason('some plain line\nlast plain line\n')).toBe('last plain line');
    expect(chromiumExitReason('')).toBeNull();
  });
});

describe('displayProblem', () => {
  it('is known before starting Chromium on Linux without a display', () => {
    expect(displayProblem({}, 'linux')).toMatch(/DISPLAY and WAYLAND_DISPLAY are unset/);
    expect(displayProblem({ DISPLAY: ':0' }, 'linux')).toBeNull();
    expect(displayProblem({ WAYLAND_DISPLAY: 'wayland-0' }, 'linux')).toBeNull();
    expect(displayProblem({}, 'darwin')).toBeNull();
  });
});
