#!/usr/bin/env node
// The `osusume` command (package.json "bin"): runs scripts/cli.ts through tsx's ESM loader, so
// that a fresh clone needs no build step.
import { register } from 'tsx/esm/api';

register();
await import('../scripts/cli.ts');
