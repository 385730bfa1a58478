// Debian's Chromium, driven by playwright-core (which downloads no browser of its own). The project
// installs it itself (.ci/run); where it is missing, the tests that need it fail saying how to get it.
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

/** Debian's `chromium` package puts the browser here (and a wrapper script at /usr/bin/chromium). */
const DEBIAN_PATHS = ['/usr/lib/chromium/chromium', '/usr/bin/chromium'];

export function chromiumPath(): string {
  const override = process.env.CHROMIUM_PATH;
  const candidates = override ? [override] : DEBIAN_PATHS;
  const found = candidates.find((path) => existsSync(path));
  if (!found) {
    throw new Error(
      `Chromium is not installed (looked for ${candidates.join(', ')}). The call page tests drive ` +
        "Debian's chromium package: install it with `apt-get update && apt-get install -y chromium` " +
        '(as .ci/run does), or set CHROMIUM_PATH to a Chromium binary.',
    );
  }
  return found;
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: chromiumPath(), headless: true });
}
