#!/usr/bin/env -S node --max-semi-space-size=8 --initial-old-space-size=96
// Node options: see LAUNCH_NODE_OPTIONS in src/heap.ts.
import '../dist/cli.js';
