#!/usr/bin/env node
// Entry point of the `beamdrop` command; the CLI is compiled to dist/ by `npm run build`.
import '../dist/main/cli/index.js';
