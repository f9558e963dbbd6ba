import { describe, expect, it } from 'vitest';
import { ensurePrerequisites, testPrerequisites, type Prerequisite } from './support/prerequisites.js';

/** A package that appears once `install` is called with its name. */
function installable(name: string, installed: Set<string>): Prerequisite {
  return { package: name, purpose: `${name}'s job`, present: () => installed.has(name) };
}

describe('what npm test needs before any test runs', () => {
  it('finds Dovecot, Chromium and the chart font on this machine', () => {
    expect(testPrerequisites.filter((p) => !p.present()).map((p) => p.package)).toEqual([]);
  });

  it('does nothing when everything is there', () => {
    const installed = new Set(['dovecot-imapd', 'chromium']);
    const calls: string[][] = [];
    ensurePrerequisites({ prerequisites: [...installed].map((n) => installable(n, installed)), canInstall: true, install: (p) => calls.push(p), report: () => undefined });
    expect(calls).toEqual([]);
  });

  it('installs only what is missing with apt-get, saying so first, when it may', () => {
    const installed = new Set(['chromium']);
    const lines: string[] = [];
    ensurePrerequisites({
      prerequisites: ['dovecot-imapd', 'chromium', 'fonts-dejavu-core'].map((n) => installable(n, installed)),
      canInstall: true,
      install: (packages) => packages.forEach((p) => installed.add(p)),
      report: (line) => lines.push(line),
    });
    expect(installed).toEqual(new Set(['dovecot-imapd', 'chromium', 'fonts-dejavu-core']));
    expect(lines).toEqual(["The tests need dovecot-imapd (dovecot-imapd's job), fonts-dejavu-core (fonts-dejavu-core's job): installing with apt-get install -y --no-install-recommends dovecot-imapd fonts-dejavu-core"]);
  });

  it('stops at once with the one command that installs what is missing when it may not install', () => {
    const installed = new Set<string>();
    const run = () => ensurePrerequisites({ prerequisites: ['dovecot-imapd', 'chromium'].map((n) => installable(n, installed)), canInstall: false, install: () => expect.fail('must not install'), report: () => undefined });
    expect(run).toThrow('Install with: sudo apt-get update && sudo apt-get install -y --no-install-recommends dovecot-imapd chromium');
  });

  it('stops when a package is still missing after the install', () => {
    const run = () => ensurePrerequisites({ prerequisites: [installable('chromium', new Set())], canInstall: true, install: () => undefined, report: () => undefined });
    expect(run).toThrow('chromium still missing after apt-get install');
  });
});
