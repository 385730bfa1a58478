#!/usr/bin/env node
// Some registries (this project's CI mirror among them) serve only the platform packages of the
// machine's own platform, so `npm install` leaves the other platforms' optional native packages
// (@swc/core-darwin-arm64, ...) out of package-lock.json, and `npm ci` then refuses the lock.
// This adds those entries back, with the os/cpu/libc npm needs to skip them on other platforms.
// Run it after `npm install` changes the lock file.
import { readFileSync, writeFileSync } from 'node:fs';

const OS = ['darwin', 'linux', 'win32', 'android', 'freebsd', 'openharmony', 'sunos', 'aix'];
const CPU = ['arm64', 'x64', 'arm', 'ia32', 'ppc64', 's390x', 'loong64', 'riscv64', 'wasm32'];

const file = new URL('../package-lock.json', import.meta.url);
const lock = JSON.parse(readFileSync(file, 'utf8'));
const packages = lock.packages;
let added = 0;
for (const [path, entry] of Object.entries(packages)) {
  for (const [name, version] of Object.entries(entry.optionalDependencies ?? {})) {
    const key = `node_modules/${name}`;
    if (packages[key] || packages[`${path}/${key}`]) continue;
    const tokens = name.split('/').pop().split('-');
    const os = tokens.find((t) => OS.includes(t));
    const cpu = tokens.find((t) => CPU.includes(t));
    if (!os || !cpu) continue;
    const stub = { version, optional: true, os: [os], cpu: [cpu] };
    if (tokens.includes('musl') || tokens.includes('musleabihf')) stub.libc = ['musl'];
    else if (os === 'linux' && (tokens.includes('gnu') || tokens.includes('gnueabihf')))
      stub.libc = ['glibc'];
    packages[key] = stub;
    added++;
  }
}
lock.packages = Object.fromEntries(
  Object.entries(packages).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a.localeCompare(b))),
);
writeFileSync(file, JSON.stringify(lock, null, 2) + '\n');
console.log(`package-lock.json: ${added} platform package entries added`);
